import Glibc
import RescueModel
import SystemPackage

/// Root discovery: list partitions (or take the whole disk), skip what cannot be a root, mount each
/// candidate read-only-or-not as asked and keep the first that holds etc/os-release or etc/passwd.
extension DiskTarget {
    enum Attempt {
        case root
        case notRoot(String)
        case mountFailed(Errno)

        /// A failed mount as an Attempt; an interruption (signal) is not a finding: it propagates.
        static func failure(_ error: any Error) throws -> Attempt {
            if let code = error as? Errno { return .mountFailed(code) }
            throw error
        }
    }

    func findRoot() throws {
        let fd: Int32
        do { fd = try Syscalls.open(disk, O_RDONLY) } catch {
            throw DiskError.system("opening \(disk)", error.rawValue)
        }
        defer { Syscalls.close(fd) }
        if let table = Blkid.partitions(fd: fd), !table.entries.isEmpty {
            volumes = table.entries.map { entry in
                Volume(
                    place: "partition \(entry.number)", offset: entry.start, size: entry.size,
                    partitionType: entry.type, partUUID: entry.partUUID,
                    filesystem: Blkid.filesystem(fd: fd, offset: entry.start, size: entry.size))
            }
        } else {
            volumes = [
                Volume(place: "whole disk", offset: 0, size: 0, filesystem: Blkid.filesystem(fd: fd), device: disk)
            ]
        }

        var findings: [String] = []
        var corrupt: (place: String, type: String, device: String, error: Errno)?
        var index = 0
        while index < volumes.count {
            let volume = volumes[index]
            defer { index += 1 }
            switch RootCandidates.verdict(partitionType: volume.partitionType, filesystem: volume.filesystem?.type) {
            case .skipped(let reason):
                findings.append(
                    RootCandidates.describe(volume.place, filesystem: volume.filesystem, outcome: "skipped, \(reason)"))
            case .candidate where volume.filesystem?.type == RootCandidates.lvmPhysicalVolume:
                let (found, unsupported) = try LVM.logicalVolumes(pv: try device(for: index))
                findings.append(
                    RootCandidates.describe(
                        volume.place, filesystem: volume.filesystem, outcome: "\(found.count) usable logical volume(s)")
                )
                findings += unsupported
                for lv in found {
                    let offset = volume.offset + lv.offset
                    volumes.append(
                        Volume(
                            place: "LV \(lv.qualifiedName)", offset: offset, size: lv.size,
                            filesystem: Blkid.filesystem(fd: fd, offset: offset, size: lv.size),
                            logicalVolume: lv.qualifiedName))
                }
            case .candidate:
                switch try attemptRoot(index) {
                case .root:
                    facts.partition = partitionName(volume)
                    facts.filesystem = volume.filesystem?.type
                    facts.uuid = volume.filesystem?.uuid
                    facts.logicalVolume = volume.logicalVolume
                    return
                case .notRoot(let why):
                    findings.append(RootCandidates.describe(volume.place, filesystem: volume.filesystem, outcome: why))
                case .mountFailed(let error):
                    let type = volume.filesystem?.type ?? "unknown"
                    findings.append(
                        RootCandidates.describe(
                            volume.place, filesystem: volume.filesystem, outcome: "mount failed: \(error)"))
                    if corrupt == nil, RootCandidates.looksCorrupt(errno: error.rawValue) {
                        corrupt = (volume.place, type, partitionName(volume), error)
                    }
                }
            }
        }
        if let corrupt {
            throw RescueReport.Failure(
                .corruptFilesystem,
                "the \(corrupt.type) filesystem on \(corrupt.place) of \(facts.device ?? disk) cannot be mounted (\(corrupt.error)); no other partition holds a Linux root",
                hint: RootCandidates.fsckHint(filesystem: corrupt.type, device: corrupt.device), candidates: findings)
        }
        throw RescueReport.Failure(
            .noLinuxRoot,
            "no Linux root filesystem on \(facts.device ?? disk). Found:\n  " + findings.joined(separator: "\n  "),
            hint: "Check that this is the instance's root volume; a root needs etc/os-release or etc/passwd.",
            candidates: findings)
    }

    /// How the report names a partition: `/dev/nvme1n1p2` for a device, `disk.img partition 2` for an image.
    func partitionName(_ volume: Volume) -> String {
        let device = facts.device ?? disk
        if let lv = volume.logicalVolume { return lv }
        guard volume.place.hasPrefix("partition "), let number = volume.place.split(separator: " ").last else {
            return device
        }
        guard device.hasPrefix("/dev/") else { return "\(device) \(volume.place)" }
        return device.last?.isNumber == true ? "\(device)p\(number)" : "\(device)\(number)"
    }

    func attemptRoot(_ index: Int) throws -> Attempt {
        let device = try device(for: index)
        let type = volumes[index].filesystem?.type ?? ""
        let mark = cleanup.pending
        if type == "btrfs" { return try attemptBtrfsRoot(index, device: device, mark: mark) }
        let directory: String
        do { directory = try mountFresh(device, type: type, readOnly: true) } catch {
            cleanup.unwind(to: mark)
            return try .failure(error)
        }
        guard DiskTarget.looksLikeRoot(directory) else {
            cleanup.unwind(to: mark)
            return .notRoot("no etc/os-release or etc/passwd (a /boot or data filesystem)")
        }
        return try mountChosenRoot(device, type: type, examined: directory, mark: mark)
    }

    /// Candidates are examined read-only (a /boot or data partition is never written, not even its
    /// mount count); for a read-write target the chosen root is then mounted again read-write.
    func mountChosenRoot(_ device: String, type: String, examined: String, mark: Int, extra: [String] = []) throws
        -> Attempt
    {
        if readOnly {
            setRoot(examined)
            return .root
        }
        cleanup.unwind(to: mark)
        do { setRoot(try mountFresh(device, type: type, extra: extra)) } catch {
            cleanup.unwind(to: mark)
            return try .failure(error)
        }
        return .root
    }

    /// btrfs: mount the top level (subvolid=5); the root is the top level itself or one of its
    /// subvolumes (`@`, `root`, … first). The chosen subvolume is then mounted on its own.
    func attemptBtrfsRoot(_ index: Int, device: String, mark: Int) throws -> Attempt {
        let top: String
        do { top = try mountFresh(device, type: "btrfs", extra: ["subvolid=5"], readOnly: true) } catch {
            cleanup.unwind(to: mark)
            return try .failure(error)
        }
        if DiskTarget.looksLikeRoot(top) {
            return try mountChosenRoot(device, type: "btrfs", examined: top, mark: mark, extra: ["subvolid=5"])
        }
        let names = ((try? HostFiles.listDirectory(top)) ?? []).filter { name in
            var st = stat()
            return !name.contains(",") && lstat("\(top)/\(name)", &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
                && st.st_ino == 256  // BTRFS_FIRST_FREE_OBJECTID: the root directory of a subvolume
        }
        let chosen = RootCandidates.orderSubvolumes(names).first { DiskTarget.looksLikeRoot("\(top)/\($0)") }
        cleanup.unwind(to: mark)
        guard let chosen else {
            return .notRoot("no subvolume holds etc/os-release (subvolumes: \(names.sorted().joined(separator: ", ")))")
        }
        do {
            setRoot(try mountFresh(device, type: "btrfs", extra: ["subvol=/\(chosen)"]))
        } catch {
            cleanup.unwind(to: mark)
            return try .failure(error)
        }
        facts.subvolume = chosen
        return .root
    }
}
