import Glibc
import RescueModel

/// Finds an EBS volume attached to this host by its id: the `nvme-Amazon_Elastic_Block_Store_vol…`
/// link udev makes (Nitro), else the NVMe controller serial in sysfs (`vol0abc…`, for hosts without
/// those udev rules). Waits for it (a hot-attached NVMe device can take many seconds to appear).
public enum VolumeLocator {
    public static func find(_ volumeID: String, waitSeconds: Int) throws(RescueReport.Failure) -> String {
        let serial = volumeID.replacingDash()
        let deadline = monotonicSeconds() + Double(max(0, waitSeconds))
        while true {
            if let path = byIDLink(serial) ?? bySysfsSerial(serial) { return path }
            guard monotonicSeconds() < deadline else { break }
            usleep(500_000)
        }
        throw RescueReport.Failure(
            .volumeNotFound,
            "volume \(volumeID) is not attached to this host (no /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_\(serial), no NVMe serial \(serial))",
            hint: "attach the volume (aws ec2 attach-volume) and run again, or give --device")
    }

    static func byIDLink(_ serial: String) -> String? {
        let link = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_\(serial)"
        guard let resolved = realpath(link, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func bySysfsSerial(_ serial: String) -> String? {
        guard let dir = opendir("/sys/block") else { return nil }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix("nvme"), let text = readText("/sys/block/\(name)/device/serial") else { continue }
            if text.trimmingWhitespace() == serial { return "/dev/\(name)" }
        }
        return nil
    }

    /// A mounted device that is `disk` or one of its partitions: then it is this host's own disk.
    public static func mountedPart(of disk: String) -> String? {
        guard let mounts = readText("/proc/self/mounts") else { return nil }
        let real = realPathOf(disk)
        guard real.hasPrefix("/dev/") else { return nil }
        for line in mounts.split(separator: "\n") {
            guard let source = line.split(separator: " ").first.map(String.init), source.hasPrefix("/dev/") else { continue }
            let resolved = realPathOf(source)
            if resolved == real || (resolved.hasPrefix(real) && isPartitionSuffix(resolved.dropFirst(real.count))) {
                return source
            }
        }
        return nil
    }

    /// `1`, `p1`: the suffix the kernel gives a disk's partitions (sda1, nvme0n1p1).
    static func isPartitionSuffix(_ suffix: Substring) -> Bool {
        let digits = suffix.hasPrefix("p") ? suffix.dropFirst() : suffix
        return !digits.isEmpty && digits.allSatisfy(\.isNumber)
    }

    static func realPathOf(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return (try? readAll(fd, what: path)).map { String(decoding: $0, as: UTF8.self) }
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

extension String {
    /// `vol-0abc` → `vol0abc`: EBS puts the id without its dash in the NVMe serial.
    fileprivate func replacingDash() -> String { String(filter { $0 != "-" }) }
    fileprivate func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
