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

    /// `/dev/nvme1n1` + partition 2 → `/dev/nvme1n1p2` (`/dev/xvdf` → `/dev/xvdf2`), only when the
    /// kernel's partition N of that disk covers exactly the bytes the disk's own table gives
    /// (`start`, `size`, as libblkid read them), the node is that partition, and no one holds it;
    /// nil otherwise (the caller then makes a loop window).
    ///
    /// Why the window and not just the name: the kernel keeps a loop device's partitions when it is
    /// detached without a partition rescan (`partx -a` adds them with BLKPG; detached while busy,
    /// or without `partx -d`), and the next file attached there inherits them at the old offsets.
    /// A leftover `loop3p1` of the same size but another start would mount the wrong bytes.
    /// sysfs is found through the device number, not the name: a namespaced /dev (the local
    /// cloud's rescue hosts) names a loop device `nvme1n1`.
    static func partition(of disk: String, number: Int, start: UInt64, size: UInt64, sysfs: String = "/sys") -> String?
    {
        guard let diskNumber = deviceNumber(disk) else { return nil }
        let diskDirectory = "\(sysfs)/dev/block/\(diskNumber)"
        let wanted = KernelWindow(number: number, start: start, size: size)
        guard let found = kernelPartitions(of: diskDirectory).first(where: { $0.window.number == number }),
            found.window == wanted
        else { return nil }
        let path = disk + (disk.last?.isNumber == true ? "p" : "") + String(number)
        guard deviceNumber(path) == found.deviceNumber else { return nil }
        // O_EXCL on a block device fails with EBUSY while it is mounted or claimed (dm, md, swap).
        guard let fd = try? Syscalls.open(path, O_RDONLY | O_EXCL) else { return nil }
        Syscalls.close(fd)
        return path
    }

    /// A kernel partition: its number, and its start and size in bytes (sysfs counts 512-byte
    /// sectors whatever the logical block size).
    struct KernelWindow: Equatable {
        var number: Int
        var start: UInt64
        var size: UInt64
    }

    /// The partitions sysfs lists beneath a disk's directory: each window and its `MAJ:MIN`.
    static func kernelPartitions(of diskDirectory: String) -> [(window: KernelWindow, deviceNumber: String)] {
        ((try? HostFiles.listDirectory(diskDirectory)) ?? []).sorted().compactMap { name in
            let directory = "\(diskDirectory)/\(name)"
            func value(_ file: String) -> String? {
                (try? HostFiles.readText("\(directory)/\(file)")).map { $0.filter { !$0.isWhitespace } }
            }
            guard let number = value("partition").flatMap(Int.init), let start = value("start").flatMap(UInt64.init),
                let size = value("size").flatMap(UInt64.init), let device = value("dev")
            else { return nil }
            return (KernelWindow(number: number, start: start * 512, size: size * 512), device)
        }
    }

    /// `MAJ:MIN` of the block device at `path` (symlinks followed), as sysfs writes it.
    static func deviceNumber(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFBLK else { return nil }
        return deviceNumberString(UInt64(st.st_rdev))
    }

    /// glibc's encoding of dev_t (`gnu_dev_major`/`gnu_dev_minor`).
    static func deviceNumberString(_ rdev: UInt64) -> String {
        let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~UInt64(0xfff))
        let minor = (rdev & 0xff) | ((rdev >> 12) & ~UInt64(0xff))
        return "\(major):\(minor)"
    }
}
