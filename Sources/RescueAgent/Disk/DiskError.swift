import Glibc
import RescueModel

/// Builders for the failures the disk layer reports: always a `RescueReport.Failure` with a code
/// from RescueModel, a message saying what happened and a hint saying what to do.
enum DiskError {
    /// A syscall the agent relies on failed for a reason the user cannot fix by changing the disk.
    static func system(_ operation: String, _ code: Int32) -> RescueReport.Failure {
        RescueReport.Failure(
            .internalError, "\(operation) failed: \(errnoText(code))",
            hint: "The agent needs root, loop devices and mount(2) (run it as root on a Linux host).")
    }

    static func errnoText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}
