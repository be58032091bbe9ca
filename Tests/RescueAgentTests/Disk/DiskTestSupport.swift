import Glibc
import Testing

@testable import RescueAgent

/// Tests that attach loop devices and mount need root and a kernel with loop devices.
let isRootWithLoopDevices: Bool = getuid() == 0 && access("/dev/loop-control", R_OK | W_OK) == 0

/// Runs a host command for a test fixture; fails the test with its output when it fails.
@discardableResult
func sh(_ command: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let result = try HostCommand.run("/bin/sh", ["-c", command])
    if result.status != 0 {
        Issue.record("`\(command)` failed (\(result.status)): \(result.errorText)", sourceLocation: sourceLocation)
        throw HostCommand.Failed(command: command, status: result.status, output: result.errorText)
    }
    return result.output
}

/// A scratch directory for one test, removed with everything in it when the test ends.
final class Scratch {
    let path: String
    init() throws {
        path = try Syscalls.makeTemporaryDirectory("/tmp/keyrescue-disk-test-XXXXXX")
    }
    deinit { _ = try? HostCommand.run("/bin/rm", ["-rf", path]) }
}

/// Loop devices whose backing file lies under `directory` and mounts whose source or target
/// mentions it: what a test must not leave behind. The kernel releases an autoclear loop device
/// (`mount -o loop`) just after the unmount returns, so this looks again for up to 2 s.
func leftovers(under directory: String) -> [String] {
    for _ in 0..<20 {
        if currentLeftovers(under: directory).isEmpty { return [] }
        usleep(100_000)
    }
    return currentLeftovers(under: directory)
}

private func currentLeftovers(under directory: String) -> [String] {
    var found: [String] = []
    if let names = try? HostFiles.listDirectory("/sys/block") {
        for name in names where name.hasPrefix("loop") {
            let backing = (try? HostFiles.readText("/sys/block/\(name)/loop/backing_file")) ?? ""
            if backing.contains(directory) { found.append("/dev/\(name) -> \(backing)") }
        }
    }
    let mountinfo = (try? HostFiles.readText("/proc/self/mountinfo")) ?? ""
    for line in mountinfo.split(separator: "\n") where line.contains(directory) {
        found.append(String(line))
    }
    return found
}
