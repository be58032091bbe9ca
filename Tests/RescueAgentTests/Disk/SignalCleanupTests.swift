import Glibc
import Testing

@testable import RescueAgent

/// The built agent next to this test bundle (`swift build --build-tests` builds both), if any.
let builtAgent: String? = {
    let bundle = CommandLine.arguments.first ?? ""
    var directory = bundle.split(separator: "/", omittingEmptySubsequences: false).dropLast()
    while let last = directory.last, last.hasSuffix(".xctest") || last == "Contents" || last == "MacOS" {
        directory.removeLast()
    }
    let path = directory.joined(separator: "/") + "/keyrescue-agent"
    return access(path, X_OK) == 0 ? path : nil
}()
let strace = HostCommand.find("strace")

/// SIGTERM while the agent has the root mounted: everything is undone and the process ends by the
/// signal. strace holds the agent right after its mount(2) of the disk (3 s; the first two mounts
/// make its private namespace) so the signal lands in that window.
@Suite(
    .enabled(
        if: isRootWithLoopDevices && builtAgent != nil && strace != nil,
        "needs root, loop devices, the built keyrescue-agent and strace"))
struct SignalCleanupTests {
    /// True when a mount under /run/keyrescue-agent, in the mount namespace of process `pid` (the
    /// agent mounts in a private one of its own), comes from `image` (a loop over it, or a loop
    /// over such a loop).
    func agentHasMounted(_ image: String, pid: pid_t) -> Bool {
        func backing(_ device: Substring) -> String {
            ((try? HostFiles.readText("/sys/block/\(device.dropFirst(5))/loop/backing_file")) ?? "")
                .strippingCharacters(in: "\n")
        }
        let lines = ((try? HostFiles.readText("/proc/\(pid)/mountinfo")) ?? "").split(separator: "\n")
        return lines.contains { line in
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[4].hasPrefix("/run/keyrescue-agent/disk-"),
                let dash = fields.firstIndex(of: "-"), dash + 2 < fields.count, fields[dash + 2].hasPrefix("/dev/loop")
            else { return false }
            let first = backing(fields[dash + 2])
            return first == image || (first.hasPrefix("/dev/loop") && backing(Substring(first)) == image)
        }
    }

    @Test func sigtermWhileMountedUnmountsDetachesAndEndsWithTheSignal() throws {
        let scratch = try Scratch()
        let image = "\(scratch.path)/sig.img"
        try DiskImages.build(DiskImages.efiAndLinux(image, mkfs: "mkfs.ext4 -q", populate: "$ROOTFILES"))
        guard let agent = builtAgent, let strace else { return }
        let argv = [
            strace, "-f", "-o", "/dev/null", "-e", "inject=mount:delay_exit=3000000:when=3+", agent, "probe", "--image",
            image,
        ]
        var pid = pid_t()
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        #expect(posix_spawn(&pid, strace, nil, nil, cArgs, environ) == 0)
        var mounted = false
        var agentPID: pid_t?
        for _ in 0..<200 where !mounted {
            usleep(50_000)
            let children = (try? HostFiles.readText("/proc/\(pid)/task/\(pid)/children")) ?? ""
            agentPID = agentPID ?? children.split(separator: " ").first.flatMap { pid_t($0) }
            mounted = agentPID.map { agentHasMounted(image, pid: $0) } ?? false
        }
        #expect(agentPID != nil, "strace has no child")
        #expect(mounted, "the agent never mounted the image")
        kill(agentPID ?? pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // strace reports its tracee's death by SIGTERM as its own, or as exit status 128+15.
        let killedBySIGTERM = status & 0x7f == SIGTERM || (status & 0x7f == 0 && (status >> 8) & 0xff == 128 + SIGTERM)
        #expect(killedBySIGTERM, "wait status \(status)")
        #expect(!agentHasMounted(image, pid: getpid()))
        #expect(leftovers(under: scratch.path).isEmpty)
    }
}
