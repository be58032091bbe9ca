import Glibc

/// The kernel's own block devices: a disk given by path, and the partition devices the kernel made
/// for it (on NVMe and Xen disks; not on this machine's loop devices, whose tables it does not scan).
enum BlockDevices {
    /// The real path of `path` when it is a block device, else nil (an image file).
    static func resolve(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        let real = String(cString: resolved)
        return isBlockDevice(real) ? real : nil
    }

    static func isBlockDevice(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFBLK
    }

    /// `/dev/nvme1n1` + partition 2 → `/dev/nvme1n1p2` (`/dev/xvdf` → `/dev/xvdf2`), when that
    /// device exists with the size the partition table gives; nil otherwise.
    static func partition(of disk: String, place: String, size: UInt64) -> String? {
        guard place.hasPrefix("partition "), let number = place.split(separator: " ").last else { return nil }
        let path = disk + (disk.last?.isNumber == true ? "p" : "") + number
        guard isBlockDevice(path), let fd = try? Syscalls.open(path, O_RDONLY) else { return nil }
        defer { Syscalls.close(fd) }
        return (try? Syscalls.sizeInBytes(fd: fd)).map { UInt64($0) == size } == true ? path : nil
    }
}
