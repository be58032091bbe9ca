/// Where the target's disk comes from: the CLI's `--device`, `--image`, `--root`, `--volume-id`.
public enum TargetSource: Sendable, Equatable {
    case device(String)
    case image(String)
    /// An already mounted root filesystem: nothing to mount or detach.
    case root(String)
    /// An EBS volume attached to this host, found by its NVMe serial or by-id link; waited for up to
    /// `waitSeconds` (run mode), never one of the host's own disks.
    case volumeID(String, waitSeconds: Int)
}

/// What the agent learnt about the disk while opening it (goes into the report).
public struct DiskFacts: Sendable, Equatable {
    public var device: String?
    public var partition: String?
    public var filesystem: String?
    public var uuid: String?
    /// The btrfs subvolume that holds the root, when there is one.
    public var subvolume: String?
    /// `vg/lv` when the root is an LVM logical volume.
    public var logicalVolume: String?

    public init(
        device: String? = nil, partition: String? = nil, filesystem: String? = nil, uuid: String? = nil,
        subvolume: String? = nil, logicalVolume: String? = nil
    ) {
        self.device = device
        self.partition = partition
        self.filesystem = filesystem
        self.uuid = uuid
        self.subvolume = subvolume
        self.logicalVolume = logicalVolume
    }
}

/// One line of the target's fstab, as parsed from the disk.
public struct FstabEntry: Sendable, Equatable {
    public var spec: String
    public var mountPoint: String
    public var type: String
    public var options: [String]

    public init(spec: String, mountPoint: String, type: String, options: [String]) {
        self.spec = spec
        self.mountPoint = mountPoint
        self.type = type
        self.options = options
    }
}

/// The outcome of trying to mount a secondary filesystem of the target (e.g. a separate /home).
public enum SecondaryMount: Sendable, Equatable {
    case mounted(at: String)
    /// The filesystem is not on this disk (another volume): the report says so plainly.
    case onAnotherVolume(String)
    case failed(String)
}

/// A target root made available as a directory, owning every mount and loop device made for it.
/// Seam between the disk layer (loop, blkid, mount, LVM, btrfs) and the injector (parsers, writer).
public protocol OpenedTarget: AnyObject {
    /// Directory where the target's root filesystem is mounted (or the `--root` directory itself).
    var rootPath: String { get }
    var facts: DiskFacts { get }
    /// Mounts the filesystem the target's fstab puts at `entry.mountPoint` when it lives on the same
    /// disk (a partition or btrfs subvolume), beneath `rootPath`.
    func mountSecondary(_ entry: FstabEntry) throws -> SecondaryMount
    /// Syncs, unmounts everything and detaches loop devices in reverse order. Idempotent; also run
    /// by the signal handler.
    func close() throws
}
