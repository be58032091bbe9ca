import RescueModel
import SystemPackage

/// Why the writer stopped, in its own terms; turned into the report's failure codes only at
/// `KeyWriter.write`, the writer's boundary.
enum KeyWriteError: Error {
    /// A system call failed: what was being done, and its errno.
    case system(Errno, doing: String)
    /// A path the agent will not write through (symlinks, other owners, system files).
    case refused(path: String, why: String)
    /// The file can be written, but sshd would still refuse the key login (StrictModes, access).
    case loginWouldFail(String)
    /// The home is not on this filesystem.
    case homeMissing(String)
    /// What was written is not what a fresh read finds.
    case notKept(String)

    var failure: RescueReport.Failure {
        switch self {
        case .system(let code, let doing):
            RescueReport.Failure(
                .writeFailed, "cannot \(doing): \(code.description)",
                hint: "check the target filesystem (read-only? full? corrupt?) and run again")
        case .refused(let path, let why):
            RescueReport.Failure(
                .unsafePath, "refusing to write through \(path) on the target: \(why)",
                hint:
                    "sshd refuses such keys too, or the path is not the user's; inspect the disk by hand (keyrescue-agent probe) and fix the path first"
            )
        case .loginWouldFail(let why):
            RescueReport.Failure(
                .unsafePath, "sshd would refuse the key login: \(why); nothing was written",
                hint:
                    "the agent changes no existing owner or mode: fix that one on the disk (chown/chmod go-w, or StrictModes no in sshd_config) and run again"
            )
        case .homeMissing(let home):
            RescueReport.Failure(
                .homeNotOnDisk, "the home directory \(home) does not exist on this filesystem",
                hint: "it may be on another volume (see the target's /etc/fstab); attach that volume too or pass --user"
            )
        case .notKept(let why):
            RescueReport.Failure(
                .verifyFailed, why, hint: "the target filesystem did not keep what was written; check it with fsck")
        }
    }
}

/// Runs one system call for the writer, naming what it was doing if it fails.
func attempt<T>(_ doing: @autoclosure () -> String, _ body: () throws(Errno) -> T) throws(KeyWriteError) -> T {
    do { return try body() } catch { throw .system(error, doing: doing()) }
}
