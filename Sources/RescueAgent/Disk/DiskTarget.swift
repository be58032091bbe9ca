import CLinux
import Glibc
import RescueModel
import SystemPackage

/// Opens the target's disk (a device, an image, or an EBS volume found by id) and mounts its Linux
/// root beneath a private directory. The `.root` source is the CLI's own business (nothing to
/// mount) and is refused here. `deviceName` (the job's requested name, e.g. `/dev/sdf`) lets a
/// Xen host find the volume as `/dev/xvdf` when it has no NVMe serial.
public func openDiskTarget(_ source: TargetSource, readOnly: Bool, deviceName: String? = nil) throws -> any OpenedTarget
{
    let path: String
    switch source {
    case .device(let device):
        // A partition of a disk the host has mounted would be mounted twice through the loop: corruption.
        if HostDisks.isInUse(device) {
            throw RescueReport.Failure(
                .unsupported,
                "\(device) is in use by this host (a partition of it is mounted, in swap, or held by LVM/dm)",
                hint: "Give the target's disk, not one of this host's own disks.")
        }
        path = device
    case .image(let image): path = image
    case .volumeID(let id, let waitSeconds):
        path = try VolumeLookup.waitForVolume(id, deviceName: deviceName, waitSeconds: waitSeconds)
    case .root(let root):
        throw RescueReport.Failure(
            .unsupported, "\(root) is already a mounted root: there is no disk to open",
            hint: "Use the directory directly (`--root`).")
    }
    let target = try DiskTarget(cleanup: CleanupStack(), readOnly: readOnly)
    do {
        try target.open(path)
    } catch {
        try? target.close()
        throw error
    }
    return target
}

/// A disk opened by the agent: every loop device, mount and directory it made is on `cleanup`.
public final class DiskTarget: OpenedTarget {
    /// The CLI's entry point: `openDiskTarget` inside a private mount namespace
    /// (`PrivateMountNamespace`), entered first, before any thread starts, so that even a SIGKILL
    /// leaves no mount and no loop device behind.
    public static func open(_ source: TargetSource, readOnly: Bool, deviceName: String? = nil)
        throws(RescueReport.Failure) -> any OpenedTarget
    {
        try PrivateMountNamespace.enter()
        do { return try openDiskTarget(source, readOnly: readOnly, deviceName: deviceName) } catch let failure
            as RescueReport.Failure
        {
            throw failure
        } catch {
            throw RescueReport.Failure(.internalError, "opening the disk failed: \(error)", hint: "")
        }
    }

    /// Run mode's first phase on its own, so it can be timed apart from the agent's work: waits up
    /// to `waitSeconds` for the EBS volume to appear and returns its device.
    public static func waitForVolume(_ volumeID: String, deviceName: String?, waitSeconds: Int)
        throws(RescueReport.Failure) -> String
    {
        do {
            return try VolumeLookup.waitForVolume(volumeID, deviceName: deviceName, waitSeconds: waitSeconds)
        } catch let failure as RescueReport.Failure {
            throw failure
        } catch {
            throw RescueReport.Failure(.internalError, "looking for \(volumeID) failed: \(error)", hint: "")
        }
    }

    /// A partition, the whole disk, or an LVM logical volume: a byte window on the disk.
    struct Volume {
        var place: String
        var offset: UInt64
        var size: UInt64
        var partitionType: String?
        var partUUID: String?
        var filesystem: FilesystemProbe?
        /// `vg/lv` for a logical volume.
        var logicalVolume: String? = nil
        /// The loop device over this window, once made.
        var device: String?

        /// N of `partition N`; nil for the whole disk or a logical volume.
        var partitionNumber: Int? {
            guard place.hasPrefix("partition "), let number = place.split(separator: " ").last else { return nil }
            return Int(number)
        }
    }

    deinit { try? close() }

    let cleanup: CleanupStack
    let readOnly: Bool
    private let signalToken: Int
    let workDirectory: String
    public private(set) var rootPath = ""
    public internal(set) var facts = DiskFacts()
    /// The whole disk: a loop device over an image, or the block device itself.
    var disk = ""
    /// True when `disk` is the given block device (its kernel partition devices may be used).
    var kernelDisk = false
    var volumes: [Volume] = []
    private var mountCount = 0

    init(cleanup: CleanupStack, readOnly: Bool) throws {
        self.cleanup = cleanup
        self.readOnly = readOnly
        signalToken = try SignalCleanup.register(cleanup)
        do {
            try Syscalls.makeDirectory(PrivateMountNamespace.workRoot, mode: 0o700)
            workDirectory = try cleanup.perform("remove the work directory") {
                try Syscalls.makeTemporaryDirectory("\(PrivateMountNamespace.workRoot)/disk-XXXXXX")
            } undo: {
                try Syscalls.removeDirectory($0)
            }
        } catch {
            SignalCleanup.unregister(signalToken)
            throw DiskError.system(
                "creating a private directory under /run/keyrescue-agent", (error as? Errno)?.rawValue ?? EINTR)
        }
    }

    public func close() throws {
        sync()
        let failures = cleanup.runAll()
        SignalCleanup.waitIfTerminating()
        SignalCleanup.unregister(signalToken)
        if !failures.isEmpty {
            throw RescueReport.Failure(
                .internalError, "cleanup incomplete: \(failures.joined(separator: "; "))",
                hint: "Check `findmnt` and `losetup -a` for what the agent left behind and remove it by hand.")
        }
    }

    func open(_ path: String) throws {
        facts.device = path
        // A real disk (NVMe, Xen, an unscanned loop) is used as it is: the rescue host may have no
        // loop devices at all (a minimal or namespaced /dev). Read-only then rests on the mount
        // flags (ro, noload/norecovery/nologreplay). An image needs a loop device.
        if let resolved = BlockDevices.resolve(path) {
            disk = resolved
            kernelDisk = true
        } else {
            disk = try LoopDevice.attach(path, readOnly: readOnly, cleanup: cleanup)
        }
        try findRoot()
    }

    /// A loop device over `volume`'s window, made once.
    func device(for index: Int) throws -> String {
        if let device = volumes[index].device { return device }
        let volume = volumes[index]
        if kernelDisk, let number = volume.partitionNumber,
            let partition = BlockDevices.partition(of: disk, number: number, start: volume.offset, size: volume.size)
        {
            volumes[index].device = partition
            return partition
        }
        let device = try LoopDevice.attach(
            disk, offset: volume.offset, size: volume.size, readOnly: readOnly, cleanup: cleanup)
        volumes[index].device = device
        return device
    }

    /// Mounts `device` on a new directory under the private work directory.
    /// `readOnly` overrides the target's mode: candidates are always examined read-only.
    func mountFresh(_ device: String, type: String, extra: [String] = [], readOnly: Bool? = nil) throws -> String {
        mountCount += 1
        let directory = "\(workDirectory)/m\(mountCount)"
        try cleanup.perform("remove \(directory)") {
            try Syscalls.makeDirectory(directory, mode: 0o700)
        } undo: { _ in
            try Syscalls.removeDirectory(directory)
        }
        try mount(device, on: directory, type: type, extra: extra, readOnly: readOnly)
        return directory
    }

    /// Mounts with the options table's flags; registers the unmount.
    /// `unmountAt` is the mount point's real path when `target` is a `/proc/self/fd/N` link.
    func mount(
        _ device: String, on target: String, type: String, extra: [String] = [], unmountAt: String? = nil,
        readOnly: Bool? = nil
    ) throws {
        let options = MountOptions.forFilesystem(type, readOnly: readOnly ?? self.readOnly, extra: extra)
        let mountPoint = unmountAt ?? target
        try cleanup.perform("unmount \(mountPoint)") {
            try Syscalls.mount(
                source: device, target: target, type: type, flags: options.flags, data: options.dataString)
        } undo: { _ in
            try DiskTarget.unmount(mountPoint)
        }
    }

    /// Unmounts; a busy mount is retried, then detached lazily so that nothing stays visible.
    static func unmount(_ target: String) throws {
        for _ in 0..<10 {
            do {
                try Syscalls.unmount(target)
                return
            } catch {
                if error != .resourceBusy { throw error }
            }
            usleep(100_000)
        }
        try Syscalls.unmount(target, flags: KR_MNT_DETACH)
    }

    /// True when `directory` holds one of the root markers (resolved inside it, symlinks included).
    static func looksLikeRoot(_ directory: String) -> Bool {
        guard let dirfd = try? Syscalls.open(directory, O_RDONLY | O_DIRECTORY) else { return false }
        defer { Syscalls.close(dirfd) }
        return RootCandidates.rootMarkers.contains { marker in
            guard let fd = try? Syscalls.openInRoot(dirfd, marker, flags: KR_O_PATH) else { return false }
            Syscalls.close(fd)
            return true
        }
    }

    func setRoot(_ path: String) { rootPath = path }
}
