import Glibc
import RescueModel

/// Finds an attached EBS volume by its id: on Nitro the NVMe serial is the id without its dash
/// (`vol-0abc…` → `vol0abc…`), visible in sysfs and in udev's by-id links; on Xen the device is
/// the requested name (`/dev/sdf`, or `/dev/xvdf`). Never returns one of the host's own disks.
enum VolumeLookup {
    /// `vol-0abc` → `vol0abc`.
    static func serial(of volumeID: String) -> String {
        volumeID.hasPrefix("vol-") ? "vol" + volumeID.dropFirst(4) : volumeID
    }

    /// `/dev/sdf` → [`/dev/sdf`, `/dev/xvdf`]; `/dev/xvdf` → [`/dev/xvdf`, `/dev/sdf`].
    static func xenNames(_ deviceName: String) -> [String] {
        let base = deviceName.split(separator: "/").last.map(String.init) ?? deviceName
        if base.hasPrefix("sd") { return ["/dev/\(base)", "/dev/xvd\(base.dropFirst(2))"] }
        if base.hasPrefix("xvd") { return ["/dev/\(base)", "/dev/sd\(base.dropFirst(3))"] }
        return ["/dev/\(base)"]
    }

    /// One look (no waiting). `dev` and `sys` are parameters so tests can hand in fake trees.
    static func find(_ volumeID: String, deviceName: String? = nil, dev: String = "/dev", sys: String = "/sys")
        -> String?
    {
        let serial = serial(of: volumeID)
        let link = "\(dev)/disk/by-id/nvme-Amazon_Elastic_Block_Store_\(serial)"
        if access(link, F_OK) == 0, let resolved = realpath(link, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        for name in ((try? HostFiles.listDirectory("\(sys)/block")) ?? []).sorted() {
            for file in ["device/serial", "serial"] {
                let text = (try? HostFiles.readText("\(sys)/block/\(name)/\(file)")) ?? ""
                if text.strippingCharacters(in: " \n\t\0") == serial { return "\(dev)/\(name)" }
            }
        }
        if let deviceName {
            return xenNames(deviceName).map { dev + $0.dropFirst(4) }.first { access($0, F_OK) == 0 }
        }
        return nil
    }

    /// Polls every 0.5 s for up to `waitSeconds`; refuses a disk the host itself uses.
    static func waitForVolume(_ volumeID: String, deviceName: String? = nil, waitSeconds: Int) throws -> String {
        var tries = max(1, waitSeconds * 2 + 1)
        while true {
            if let path = find(volumeID, deviceName: deviceName) {
                if HostDisks.isInUse(path) {
                    throw RescueReport.Failure(
                        .volumeNotFound,
                        "\(path) (found for \(volumeID)) is one of this host's own disks (it has a mounted partition)",
                        hint: "Attach the target's volume to the rescue host as a second disk.")
                }
                return path
            }
            tries -= 1
            if tries <= 0 { break }
            usleep(500_000)
        }
        throw RescueReport.Failure(
            .volumeNotFound, "volume \(volumeID) did not appear on this host within \(waitSeconds) s",
            hint: "Check that it is attached to this instance (DescribeVolumes shows the attachment), then run again.")
    }
}

/// The host's own disks: a disk with a mounted partition (or one used as swap) is the host's.
enum HostDisks {
    /// `major:minor` of every mounted block device and active swap.
    static func busyDeviceNumbers(mountinfo: String) -> Set<String> {
        Set(
            mountinfo.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                return fields.count > 2 ? String(fields[2]) : nil
            })
    }

    static func isInUse(_ devicePath: String) -> Bool {
        guard let resolved = realpath(devicePath, nil) else { return false }
        let name = String(cString: resolved).split(separator: "/").last.map(String.init) ?? ""
        free(resolved)
        let mounted = busyDeviceNumbers(mountinfo: (try? HostFiles.readText("/proc/self/mountinfo")) ?? "")
        let block = "/sys/class/block/\(name)"
        var numbers = [(try? HostFiles.readText("\(block)/dev")) ?? ""]
        for child in (try? HostFiles.listDirectory(block)) ?? [] where child.hasPrefix(name) {
            numbers.append((try? HostFiles.readText("\(block)/\(child)/dev")) ?? "")
        }
        let swaps = (try? HostFiles.readText("/proc/swaps")) ?? ""
        let holders = (try? HostFiles.listDirectory("\(block)/holders")) ?? []
        return numbers.map { $0.strippingCharacters(in: " \n") }.contains { !$0.isEmpty && mounted.contains($0) }
            || swaps.contains("/dev/\(name)") || !holders.isEmpty
    }
}
