import CLinux

/// The flags and filesystem data for one mount: a pure table, apart from the syscall.
struct MountOptions: Sendable, Equatable {
    var flags: UInt
    var data: [String]

    /// Always nosuid, nodev, noexec (the disk is hostile). Read-only mounts also refuse to replay
    /// journals, so a dry run changes nothing byte for byte: ext3/4 `noload`, XFS `norecovery`,
    /// btrfs `rescue=nologreplay`. XFS always gets `nouuid`: a rescue host made from the same image
    /// has a mounted XFS with the same UUID, which the kernel would otherwise refuse.
    static func forFilesystem(_ type: String, readOnly: Bool, extra: [String] = []) -> MountOptions {
        var flags = UInt(KR_MS_NOSUID | KR_MS_NODEV | KR_MS_NOEXEC)
        if readOnly { flags |= UInt(KR_MS_RDONLY) }
        var data: [String] = []
        switch type {
        case "xfs":
            data.append("nouuid")
            if readOnly { data.append("norecovery") }
        case "ext4", "ext3":
            if readOnly { data.append("noload") }
        case "btrfs":
            if readOnly { data.append("rescue=nologreplay") }
        default:
            break
        }
        return MountOptions(flags: flags, data: data + extra)
    }

    var dataString: String { data.joined(separator: ",") }
}
