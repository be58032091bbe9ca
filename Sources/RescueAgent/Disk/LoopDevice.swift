import CLinux
import Glibc
import RescueModel

/// A loop device the agent attached (an image, or a partition of a disk by offset, since this
/// kind of kernel makes no partition devices for loop disks). Autoclear frees it when the last
/// user closes it; `detach()` clears it explicitly too. Registered on the CleanupStack.
final class LoopDevice {
    let path: String
    private var fd: Int32
    private var cleanupID = 0

    /// Attaches `backing` (a file or block device) from `offset` for `size` bytes (0: to the end).
    init(backing: String, offset: UInt64 = 0, size: UInt64 = 0, readOnly: Bool) throws(RescueReport.Failure) {
        let backingFD = open(backing, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
        guard backingFD >= 0 else {
            throw RescueReport.Failure(
                .volumeNotFound, "cannot open \(backing): \(SystemError.text(errno))",
                hint: "check the path (and run as root)")
        }
        defer { close(backingFD) }
        for _ in 0..<8 {  // another process may take the free device first
            let number = kr_loop_get_free()
            guard number >= 0 else { break }
            let path = "/dev/loop\(number)"
            let loopFD = open(path, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
            if loopFD < 0 { continue }
            if kr_loop_attach(loopFD, backingFD, offset, size, readOnly ? 1 : 0, 1) == 0 {
                self.path = path
                self.fd = loopFD
                cleanupID = CleanupStack.shared.push { [loopFD] in _ = kr_loop_detach(loopFD); close(loopFD) }
                return
            }
            let err = errno
            close(loopFD)
            if err != EBUSY { errno = err; break }
        }
        throw RescueReport.Failure(
            .mountFailed, "cannot attach a loop device for \(backing): \(SystemError.text(errno))",
            hint: "check that the loop module is loaded (modprobe loop) and that free loop devices exist")
    }

    func detach() {
        guard fd >= 0 else { return }
        CleanupStack.shared.run(cleanupID)
        fd = -1
    }

    deinit { detach() }
}
