/// Which partitions may hold a Linux root, and why the others were passed over: pure rules.
enum RootCandidates {
    enum Verdict: Sendable, Equatable {
        /// Worth mounting (or, for LVM, opening) to look for etc/os-release.
        case candidate
        case skipped(String)
    }

    static let rootFilesystems: Set<String> = ["ext4", "ext3", "ext2", "xfs", "btrfs"]
    static let lvmPhysicalVolume = "LVM2_member"

    /// Partition types known not to hold a root, by GPT type GUID or MBR type byte.
    static let skippedTypes: [String: String] = [
        "c12a7328-f81f-11d2-ba4b-00a0c93ec93b": "EFI system partition",
        "21686148-6449-6e6f-744e-656564454649": "BIOS boot partition",
        "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f": "Linux swap",
        "0xef": "EFI system partition",
        "0x82": "Linux swap",
        "0x5": "extended partition",
        "0xf": "extended partition",
        "0x85": "extended partition",
    ]

    static func verdict(partitionType: String?, filesystem: String?) -> Verdict {
        if let partitionType, let reason = skippedTypes[partitionType] { return .skipped(reason) }
        guard let filesystem else { return .skipped("no filesystem found") }
        if rootFilesystems.contains(filesystem) || filesystem == lvmPhysicalVolume { return .candidate }
        switch filesystem {
        case "vfat": return .skipped("vfat (EFI or firmware)")
        case "swap": return .skipped("swap")
        default: return .skipped("\(filesystem) cannot hold a Linux root")
        }
    }

    /// One line of the "what was found" list in a noLinuxRoot error.
    static func describe(_ place: String, filesystem: FilesystemProbe?, outcome: String) -> String {
        var text = place
        if let filesystem {
            text += " (\(filesystem.type)"
            if let label = filesystem.label, !label.isEmpty { text += ", label \(label)" }
            text += ")"
        }
        return text + ": " + outcome
    }

    /// The paths whose presence marks a root filesystem rather than /boot or data.
    static let rootMarkers = ["etc/os-release", "usr/lib/os-release", "etc/passwd"]

    /// btrfs top-level subvolume names that usually hold the root, tried first.
    static let preferredSubvolumes = ["@", "root", "@rootfs", "rootfs"]

    static func orderSubvolumes(_ names: [String]) -> [String] {
        let preferred = preferredSubvolumes.filter(names.contains)
        return preferred + names.filter { !preferred.contains($0) }.sorted()
    }

    /// Errnos with which mount(2) says the filesystem itself is damaged (EUCLEAN is EFSCORRUPTED).
    static func looksCorrupt(errno code: Int32) -> Bool {
        [117, 22, 5, 74].contains(code)  // EUCLEAN, EINVAL, EIO, EBADMSG
    }

    static func fsckHint(filesystem: String, device: String) -> String {
        switch filesystem {
        case "xfs":
            return
                "Check it with `xfs_repair -n \(device)` (then `xfs_repair`) from a rescue host, or restore a snapshot."
        case "btrfs": return "Check it with `btrfs check --readonly \(device)`, or restore a snapshot."
        default:
            return
                "Check it with `fsck.\(filesystem) -n \(device)` (then `fsck -y`) from a rescue host, or restore a snapshot."
        }
    }
}
