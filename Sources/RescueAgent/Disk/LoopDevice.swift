import CLinux
import Glibc
import RescueModel
import SystemPackage

/// Loop devices made by the agent: attached with LOOP_CONFIGURE (LO_FLAGS_AUTOCLEAR, read-only on
/// request), optionally as a window (offset, size) onto the backing file or device, and always
/// detached by a cleanup action registered at attach time.
///
/// The agent keeps the loop device open until cleanup: with autoclear the kernel frees the device
/// on its last close, so if the agent dies without unwinding (SIGKILL), the device disappears as
/// soon as its mounts are gone; the explicit LOOP_CLR_FD covers the normal path.
enum LoopDevice {
    /// Attaches `backing` (an image file or a block device) to a free loop device and returns its
    /// path (`/dev/loopN`).
    static func attach(
        _ backing: String, offset: UInt64 = 0, size: UInt64 = 0, readOnly: Bool, cleanup: CleanupStack
    ) throws -> String {
        let backingFD: Int32
        do {
            backingFD = try Syscalls.open(backing, readOnly ? O_RDONLY : O_RDWR)
        } catch {
            throw RescueReport.Failure(
                .volumeNotFound, "cannot open \(backing): \(error)",
                hint: "Check the path; the agent must run as root.")
        }
        defer { Syscalls.close(backingFD) }
        // Another process may take the free device between GET_FREE and CONFIGURE: retry.
        for _ in 0..<20 {
            let number = kr_loop_get_free()
            guard number >= 0 else { throw DiskError.system("LOOP_CTL_GET_FREE", kr_errno()) }
            let path = "/dev/loop\(number)"
            let loopFD: Int32
            do { loopFD = try Syscalls.open(path, O_RDWR) } catch { continue }
            let attached: Bool
            do {
                attached = try cleanup.perform("detach \(path)") { () -> Bool in
                    if kr_loop_attach(loopFD, backingFD, offset, size, readOnly ? 1 : 0, 1) == 0 { return true }
                    let code = kr_errno()
                    if code != EBUSY { throw DiskError.system("attaching \(backing) to \(path)", code) }
                    return false
                } undo: { attached in
                    guard attached else { return }
                    let status = kr_loop_detach(loopFD)
                    let code = kr_errno()
                    Syscalls.close(loopFD)
                    // ENXIO: already cleared by autoclear.
                    if status != 0 && code != ENXIO { throw Errno(rawValue: code) }
                    LoopDevice.waitUntilFree(path)
                }
            } catch {
                Syscalls.close(loopFD)  // not attached: refused (interrupted) or failed
                throw error
            }
            if attached { return path }
            Syscalls.close(loopFD)  // taken by another process meanwhile: try the next free one
        }
        throw DiskError.system("finding a free loop device", EBUSY)
    }

    /// The kernel finishes a detach asynchronously (the autoclear release path); until then the
    /// device still holds its backing file, and a caller detaching that backing device next would
    /// see ENXIO. Waits up to 2 s so that `close()` returns with the device really gone.
    static func waitUntilFree(_ path: String) {
        for _ in 0..<200 where backingFile(path) != nil { usleep(10_000) }
    }

    /// The backing file of an attached loop device (from sysfs: LOOP_CONFIGURE leaves the
    /// loop_info name empty), or nil when it is free.
    static func backingFile(_ path: String) -> String? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let text = try? HostFiles.readText("/sys/block/\(name)/loop/backing_file") else { return nil }
        return text.split(separator: "\n").first.map(String.init)
    }
}
