import Glibc

/// This process's view of what is mounted where (/proc/self/mountinfo).
enum MountTable {
    /// True when `path` (symlinks resolved) is a mount point in this mount namespace.
    static func isMountPoint(_ path: String) -> Bool {
        guard let resolved = realpath(path, nil) else { return false }
        defer { free(resolved) }
        let mountinfo = (try? HostFiles.readText("/proc/self/mountinfo")) ?? ""
        return mountPoints(mountinfo: mountinfo).contains(String(cString: resolved))
    }

    /// The mount points of a mountinfo text (field 5, with the kernel's octal escapes undone).
    static func mountPoints(mountinfo: String) -> Set<String> {
        Set(
            mountinfo.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ", omittingEmptySubsequences: false)
                return fields.count > 4 ? Fstab.unescape(String(fields[4])) : nil
            })
    }
}
