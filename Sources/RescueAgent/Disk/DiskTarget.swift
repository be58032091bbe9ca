import CLinux
import Glibc
import RescueModel

/// A target disk (device, image or EBS volume) with its Linux root mounted. Finds the root among
/// the partitions (or a whole-disk filesystem) by mounting each candidate read-only and looking for
/// `/etc/passwd`, then mounts the one root for real. Owns every loop device and mount it made.
public final class DiskTarget: OpenedTarget {
    public let rootPath: String
    public let facts: DiskFacts
    private let disk: String
    private let regions: [DiskRegion]
    private let readOnly: Bool
    private var loops: [LoopDevice] = []
    private var mounts: [Mount] = []

    public static func open(_ source: TargetSource, readOnly: Bool) throws(RescueReport.Failure) -> DiskTarget {
        CleanupStack.installSignalWatcher()
        let disk: String
        switch source {
        case .device(let path): disk = path
        case .image(let path):
            guard access(path, F_OK) == 0 else {
                throw RescueReport.Failure(.volumeNotFound, "no such image file: \(path)", hint: "check the path")
            }
            disk = path
        case .volumeID(let id, let wait): disk = try VolumeLocator.find(id, waitSeconds: wait)
        case .root(let path):
            throw RescueReport.Failure(.internalError, "\(path) is a directory, not a disk", hint: "use DirectoryTarget for --root")
        }
        if let mounted = VolumeLocator.mountedPart(of: disk) {
            throw RescueReport.Failure(
                .volumeNotFound, "\(disk) is in use by this host (\(mounted) is mounted)",
                hint: "the agent never touches the host's own disks; give the rescued volume instead")
        }
        return try DiskTarget(disk: disk, readOnly: readOnly)
    }

    private init(disk: String, readOnly: Bool) throws(RescueReport.Failure) {
        self.disk = disk
        self.readOnly = readOnly
        let layout = try DiskLayout.read(disk)
        regions = layout.regions
        var roots: [(region: DiskRegion, subvolume: String?)] = []
        var corrupt: [String] = []
        var unusable: [String] = []
        for region in regions where region.mayHoldLinuxRoot {
            switch RootFinder.look(disk: disk, region: region) {
            case .root(let subvolume): roots.append((region, subvolume))
            case .corrupt(let why): corrupt.append("\(region.name) (\(region.filesystem ?? "?")): \(why)")
            case .unusable(let why): unusable.append("\(region.name): \(why)")
            case .notRoot: break
            }
        }
        guard let found = roots.first else {
            if !corrupt.isEmpty {
                throw RescueReport.Failure(
                    .corruptFilesystem, "the filesystem on \(disk) cannot be mounted: \(corrupt.joined(separator: "; "))",
                    hint: "repair it first (e.g. fsck.ext4 -f or xfs_repair on that partition), then run again")
            }
            if !unusable.isEmpty {
                throw RescueReport.Failure(
                    .mountFailed, "cannot examine \(disk): \(unusable.joined(separator: "; "))",
                    hint: "run the agent as root on a host with loop device support (modprobe loop)")
            }
            let seen = regions.map { "\($0.name): \($0.filesystem ?? "no filesystem")" }.joined(separator: ", ")
            let lvm = regions.contains { $0.filesystem == "LVM2_member" }
            throw RescueReport.Failure(
                lvm ? .unsupported : .noLinuxRoot,
                "no Linux root filesystem on \(disk) (\(layout.table ?? "no partition table"); \(seen))",
                hint: lvm ? "the root is in LVM: this agent does not activate volume groups yet; activate it by hand and use --root"
                          : "check that this is the instance's root volume")
        }
        guard roots.count == 1 else {
            throw RescueReport.Failure(
                .multipleLinuxRoots, "several Linux roots on \(disk): \(roots.map(\.region.name).joined(separator: ", "))",
                hint: "mount the right one yourself and run with --root DIR")
        }
        facts = DiskFacts(
            device: disk, partition: found.region.number.map { "\(disk) partition \($0)" } ?? disk,
            filesystem: found.region.filesystem, uuid: found.region.uuid, subvolume: found.subvolume)
        do {
            let device = try RegionDevice.open(disk: disk, region: found.region, readOnly: readOnly)
            if let loop = device.loop { loops.append(loop) }
            let top = try Mount(
                device: device.path, filesystem: found.region.filesystem ?? "auto", readOnly: readOnly,
                extra: found.subvolume == nil ? [] : ["subvolid=5"])
            mounts.append(top)
            rootPath = found.subvolume.map { top.path + "/" + $0 } ?? top.path
        } catch let error as SystemError {
            CleanupStack.shared.runAll()
            throw RescueReport.Failure(.mountFailed, error.description, hint: "check the filesystem with fsck and run again")
        } catch let failure as RescueReport.Failure {
            CleanupStack.shared.runAll()
            throw failure
        } catch {
            CleanupStack.shared.runAll()
            throw RescueReport.Failure(.internalError, "\(error)", hint: "")
        }
    }

    /// A separate /home: another partition of this disk (by UUID=, LABEL=, PARTUUID=) or another
    /// btrfs subvolume of the root's filesystem, mounted on the target's own directory.
    public func mountSecondary(_ entry: FstabEntry) throws -> SecondaryMount {
        let region = regions.first { region in
            switch entry.spec.split(separator: "=", maxSplits: 1).map(String.init) {
            case let p where p.count == 2 && p[0] == "UUID": return region.uuid?.lowercased() == p[1].lowercased()
            case let p where p.count == 2 && p[0] == "LABEL": return region.label == p[1]
            case let p where p.count == 2 && p[0] == "PARTUUID": return region.partUUID?.lowercased() == p[1].lowercased()
            default: return false
            }
        }
        guard let region else { return .onAnotherVolume("\(entry.spec) is not a partition of \(disk)") }
        let root = try SafeRoot(path: rootPath)
        let dir = root.open(entry.mountPoint, flags: Int32(KR_O_PATH) | O_DIRECTORY, noFollow: true)
        guard dir >= 0 else { return .failed("\(entry.mountPoint) is not a directory on the target root") }
        defer { Glibc.close(dir) }
        let here = "/proc/self/fd/\(dir)"
        if region.filesystem == "btrfs", let subvol = entry.options.first(where: { $0.hasPrefix("subvol=") }),
            let top = mounts.first, facts.subvolume != nil, region.uuid == facts.uuid {
            let name = String(subvol.dropFirst("subvol=".count).drop { $0 == "/" })
            mounts.append(try Mount(device: top.path + "/" + name, on: here, filesystem: "btrfs", readOnly: readOnly, bind: true))
            return .mounted(at: entry.mountPoint)
        }
        let device = try RegionDevice.open(disk: disk, region: region, readOnly: readOnly)
        if let loop = device.loop { loops.append(loop) }
        mounts.append(try Mount(device: device.path, on: here, filesystem: region.filesystem ?? "auto", readOnly: readOnly))
        return .mounted(at: entry.mountPoint)
    }

    public func close() throws {
        for mount in mounts.reversed() { mount.unmount() }
        mounts.removeAll()
        for loop in loops.reversed() { loop.detach() }
        loops.removeAll()
    }

    deinit { try? close() }
}

/// Mounts one candidate read-only (replaying nothing) and looks for a Linux root in it, or, on
/// btrfs, in one of its top-level subvolumes (`root`, `@`, then any).
enum RootFinder {
    enum Finding: Equatable { case root(subvolume: String?), notRoot, corrupt(String), unusable(String) }

    static func look(disk: String, region: DiskRegion) -> Finding {
        guard let filesystem = region.filesystem else { return .notRoot }
        let device: RegionDevice
        do { device = try RegionDevice.open(disk: disk, region: region, readOnly: true) } catch {
            return .unusable(error.message)
        }
        defer { device.loop?.detach() }
        let mount: Mount
        do {
            mount = try Mount(device: device.path, filesystem: filesystem, readOnly: true, extra: filesystem == "btrfs" ? ["subvolid=5"] : [])
        } catch {
            return MountOptions.meansCorrupt(error.code) ? .corrupt(error.description) : .unusable(error.description)
        }
        defer { mount.unmount() }
        if isLinuxRoot(mount.path) { return .root(subvolume: nil) }
        guard filesystem == "btrfs", let top = try? SafeRoot(path: mount.path), let names = try? top.listDirectory("/") else { return .notRoot }
        let preferred = ["root", "@"] + names.sorted()
        for name in preferred where names.contains(name) && isLinuxRoot(mount.path + "/" + name) {
            return .root(subvolume: name)
        }
        return .notRoot
    }

    static func isLinuxRoot(_ path: String) -> Bool {
        guard let root = try? SafeRoot(path: path) else { return false }
        return (try? root.readFile("/etc/passwd")) != nil
    }
}

/// The block device for one region: the kernel's own partition device when it has one of the
/// right size (a real NVMe or Xen disk), the disk itself for a whole-disk filesystem on a block
/// device, else a loop device by offset (an image, or a disk whose partitions the kernel did not scan).
struct RegionDevice {
    var path: String
    var loop: LoopDevice?

    static func open(disk: String, region: DiskRegion, readOnly: Bool) throws(RescueReport.Failure) -> RegionDevice {
        let real = VolumeLocator.realPathOf(disk)
        if isBlockDevice(real) {
            if region.number == nil, region.offset == 0 { return RegionDevice(path: real, loop: nil) }
            if let number = region.number {
                let separator = real.last?.isNumber == true ? "p" : ""
                let partition = "\(real)\(separator)\(number)"
                if isBlockDevice(partition), blockSize(partition) == region.size { return RegionDevice(path: partition, loop: nil) }
            }
        }
        let loop = try LoopDevice(backing: disk, offset: region.offset, size: region.size, readOnly: readOnly)
        return RegionDevice(path: loop.path, loop: loop)
    }

    static func isBlockDevice(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFBLK
    }

    static func blockSize(_ path: String) -> UInt64? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        let size = kr_block_size_bytes(fd)
        return size < 0 ? nil : UInt64(size)
    }
}
