import CLinux
import Glibc
import RescueModel

/// How an fstab line names its device, for matching against what blkid found on this disk.
enum FstabSpec: Equatable {
    case uuid(String)
    case label(String)
    case partUUID(String)
    /// `/dev/mapper/vg-lv` or `/dev/vg/lv`, as `vg/lv`.
    case logicalVolume(String)
    /// A partition of the instance's first disk by kernel name (`/dev/xvda2`, `/dev/nvme0n1p2`,
    /// `/dev/sda2`): on EC2 the root volume is the first disk, so this is our partition N.
    case rootDiskPartition(Int)

    static let firstDiskPrefixes = ["nvme0n1p", "xvda", "sda", "vda", "hda"]

    static func parse(_ spec: String) -> FstabSpec? {
        let prefixes: [(String, (String) -> FstabSpec)] = [
            ("UUID=", { .uuid($0.lowercased()) }), ("/dev/disk/by-uuid/", { .uuid($0.lowercased()) }),
            ("LABEL=", { .label($0) }), ("/dev/disk/by-label/", { .label($0) }),
            ("PARTUUID=", { .partUUID($0.lowercased()) }), ("/dev/disk/by-partuuid/", { .partUUID($0.lowercased()) }),
        ]
        for (prefix, make) in prefixes where spec.hasPrefix(prefix) {
            var value = String(spec.dropFirst(prefix.count))
            if value.count >= 2, value.first == "\"", value.last == "\"" {
                value = String(value.dropFirst().dropLast())
            }
            return make(value)
        }
        if spec.hasPrefix("/dev/mapper/") {
            return mapperName(String(spec.dropFirst("/dev/mapper/".count))).map { .logicalVolume($0) }
        }
        for prefix in firstDiskPrefixes where spec.hasPrefix("/dev/" + prefix) {
            if let number = Int(spec.dropFirst(5 + prefix.count)) { return .rootDiskPartition(number) }
        }
        let parts = spec.split(separator: "/")
        if spec.hasPrefix("/dev/"), parts.count == 3 { return .logicalVolume("\(parts[1])/\(parts[2])") }
        return nil
    }

    /// dm names double a dash inside a VG or LV name: `vg--a-lv` is `vg-a/lv`.
    static func mapperName(_ name: String) -> String? {
        let chars = Array(name)
        var parts = ["", ""]
        var part = 0
        var i = 0
        while i < chars.count {
            if chars[i] == "-", i + 1 < chars.count, chars[i + 1] == "-" {
                parts[part].append("-")
                i += 2
                continue
            }
            if chars[i] == "-", part == 0 {
                part = 1
            } else {
                parts[part].append(chars[i])
            }
            i += 1
        }
        return part == 1 && !parts[0].isEmpty && !parts[1].isEmpty ? "\(parts[0])/\(parts[1])" : nil
    }

    func matches(_ volume: DiskTarget.Volume) -> Bool {
        switch self {
        case .uuid(let uuid): return volume.filesystem?.uuid?.lowercased() == uuid
        case .label(let label): return volume.filesystem?.label == label
        case .partUUID(let partUUID): return volume.partUUID == partUUID
        case .logicalVolume(let name): return volume.logicalVolume == name
        case .rootDiskPartition(let number): return volume.place == "partition \(number)"
        }
    }
}

extension DiskTarget {
    public func mountSecondary(_ entry: FstabEntry) throws -> SecondaryMount {
        guard !rootPath.isEmpty else { return .failed("the target's root is not mounted") }
        // A device this disk cannot be (another disk's kernel name, a network share): elsewhere.
        let elsewhere = SecondaryMount.onAnotherVolume(
            "no partition, logical volume or btrfs volume of \(facts.device ?? disk) matches \(entry.spec)")
        guard let spec = FstabSpec.parse(entry.spec) else { return elsewhere }
        guard let index = volumes.firstIndex(where: spec.matches) else { return elsewhere }
        let type = volumes[index].filesystem?.type ?? entry.type
        guard RootCandidates.rootFilesystems.contains(type) else {
            return .failed("\(entry.spec) holds \(type), which the agent does not mount")
        }
        var extra: [String] = []
        if type == "btrfs" {
            let subvolume = entry.options.first { $0.hasPrefix("subvol=") || $0.hasPrefix("subvolid=") }
            // btrfs resolves subvol= inside the filesystem, but a `..` is never legitimate here.
            if let subvolume, subvolume.split(separator: "/").contains("..") {
                return .failed("\(entry.spec)'s \(subvolume) climbs out of its filesystem")
            }
            if let subvolume, !subvolume.contains(",") { extra.append(subvolume) }
        }
        let device = try device(for: index)
        let rootFD: Int32
        do { rootFD = try Syscalls.open(rootPath, O_RDONLY | O_DIRECTORY) } catch {
            return .failed("cannot open the root: \(error)")
        }
        defer { Syscalls.close(rootFD) }
        // Resolve the mount point inside the target (a hostile /home → / symlink stays inside),
        // then mount on the resolved directory through its /proc/self/fd link.
        let relative = entry.mountPoint.split(separator: "/").joined(separator: "/")
        let pointFD: Int32
        do {
            pointFD = try Syscalls.openInRoot(rootFD, relative.isEmpty ? "." : relative, flags: KR_O_PATH | O_DIRECTORY)
        } catch {
            return .failed("\(entry.mountPoint) does not exist as a directory on the target (\(error))")
        }
        defer { Syscalls.close(pointFD) }
        let link = "/proc/self/fd/\(pointFD)"
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink(link, &buffer, buffer.count - 1)
        guard length > 0 else { return .failed("cannot resolve \(entry.mountPoint)") }
        let realPath = Syscalls.string(Array(buffer[0..<length]) + [0])
        guard realPath == rootPath || realPath.hasPrefix(rootPath + "/") else {
            return .failed("\(entry.mountPoint) resolves outside the target's root")
        }
        do { try mount(device, on: link, type: type, extra: extra, unmountAt: realPath) } catch {
            return .failed("mounting \(entry.spec) (\(type)) on \(entry.mountPoint) failed: \(error)")
        }
        return .mounted(at: realPath)
    }
}
