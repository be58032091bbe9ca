import Glibc
import RescueModel
import Testing

@testable import RescueAgent

/// SafeRoot's bounded reader says what is really at a path, and the inspection passes that on
/// instead of guessing (docs/AGENT.md, "Limits and refusals").
@Suite struct BoundedReaderTests {
    func problem(_ t: TempRoot, _ path: String, limit: Int = 1 << 20) throws -> String? {
        do {
            _ = try SafeRoot(path: t.root).read(path, limit: limit)
            return nil
        } catch let error as TargetFileError {
            return error.description
        }
    }

    @Test func eachKindOfTroubleIsNamed() throws {
        let t = TempRoot()
        t.dir("/etc/dir")
        t.file("/etc/file", "x")
        t.file("/etc/big", String(repeating: "x", count: 2 << 20))
        #expect(mkfifo(t.root + "/etc/fifo", 0o644) == 0)
        t.symlink("/etc/loop", to: "/etc/loop")
        #expect(try problem(t, "/etc/fifo") == "/etc/fifo on the target is a FIFO where a regular file must be")
        #expect(try problem(t, "/etc/dir") == "/etc/dir on the target is a directory where a regular file must be")
        #expect(
            try problem(t, "/etc/file/passwd") == "/etc/file on the target is a regular file where a directory must be")
        #expect(try problem(t, "/etc/loop")?.contains("/etc/loop on the target is a symlink loop") == true)
        #expect(try problem(t, "/" + String(repeating: "n", count: 300))?.contains("path too long") == true)
        #expect(
            try problem(t, "/etc/big") == "/etc/big on the target is 2 MiB, more than the 1 MiB the agent reads of it")
        #expect(try problem(t, "/etc/missing") == nil)
        #expect(try SafeRoot(path: t.root).read("/etc/missing", limit: 1) == nil)
        #expect(try SafeRoot(path: t.root).text("/etc/file", limit: 1) == "x")
    }

    @Test func aDeviceNodeIsNeverOpened() throws {
        let t = TempRoot()
        t.dir("/etc")
        // /dev/null's numbers: opening it would succeed, so only the O_PATH look can refuse it.
        #expect(mknod(t.root + "/etc/passwd", S_IFCHR | 0o644, dev_t((1 << 8) | 3)) == 0)
        #expect(
            try problem(t, "/etc/passwd")
                == "/etc/passwd on the target is a character device where a regular file must be")
    }

    @Test func theInspectionSaysWhatIsThere() throws {
        let t = TempRoot.debian()
        unlink(t.root + "/etc/passwd")
        #expect(mkfifo(t.root + "/etc/passwd", 0o644) == 0)
        #expect {
            try TargetInspection.inspect(SafeRoot(path: t.root), userOverride: nil, keys: [])
        } throws: { error in
            let failure = error as? RescueReport.Failure
            return failure?.code == .unsafePath
                && failure?.message.contains("/etc/passwd on the target is a FIFO") == true
                && failure?.message.contains("not a Linux root") == false
        }
    }

    @Test func anUnreadableCloudInitFileIsRefusedUnlessTheUserIsGiven() throws {
        let t = TempRoot.debian()
        t.dir("/etc/cloud/cloud.cfg.d")
        #expect(mkfifo(t.root + "/etc/cloud/cloud.cfg.d/50-user.cfg", 0o644) == 0)
        let root = try SafeRoot(path: t.root)
        #expect {
            try TargetInspection.inspect(root, userOverride: nil, keys: [])
        } throws: { error in
            (error as? RescueReport.Failure)?.message.contains(
                "/etc/cloud/cloud.cfg.d/50-user.cfg on the target is a FIFO") == true
                && (error as? RescueReport.Failure)?.hint.contains("--user") == true
        }
        #expect(try TargetInspection.inspect(root, userOverride: "admin", keys: []).user.name == "admin")
    }

    /// Every file that decides something is refused by name when it is a FIFO, never skipped.
    @Test(arguments: ["/etc/group", "/etc/os-release", "/etc/selinux/config", "/etc/ssh/sshd_config.d/50-x.conf"])
    func aFIFOThatDecidesSomethingIsRefusedByName(_ path: String) throws {
        let t = TempRoot.debian()
        t.dir("/etc/selinux")
        t.dir("/etc/ssh/sshd_config.d")
        t.file("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\n")
        unlink(t.root + path)
        #expect(mkfifo(t.root + path, 0o644) == 0)
        #expect {
            try TargetInspection.inspect(SafeRoot(path: t.root), userOverride: "admin", keys: [])
        } throws: { error in
            (error as? RescueReport.Failure)?.message.hasPrefix(
                "\(path) on the target is a FIFO where a regular file must be") == true
        }
    }

    @Test func anUnreadableSshdConfigIsRefusedNotDefaulted() throws {
        let t = TempRoot.debian()
        t.dir("/etc/ssh/sshd_config")
        #expect {
            try TargetInspection.inspect(SafeRoot(path: t.root), userOverride: nil, keys: [])
        } throws: { error in
            (error as? RescueReport.Failure)?.message.contains("/etc/ssh/sshd_config on the target is a directory")
                == true
        }
    }

    @Test func pathTroubleForTheWritersWalk() throws {
        let t = TempRoot.debian()
        t.file("/home/admin/.ssh", "not a directory")
        #expect(mkfifo(t.root + "/home/admin/fifo", 0o644) == 0)
        t.symlink("/home/admin/link", to: "/etc")
        let home = open(t.root + "/home/admin", O_RDONLY | O_DIRECTORY)
        defer { close(home) }
        func trouble(_ name: String) -> String {
            PathTrouble.openFailed(
                ENOTDIR, directory: home, name: name, path: "/home/admin/\(name)", expected: .directory
            ).description
        }
        #expect(trouble(".ssh") == "/home/admin/.ssh is a regular file where a directory must be")
        #expect(trouble("fifo") == "/home/admin/fifo is a FIFO where a directory must be")
        #expect(
            PathTrouble.openFailed(ELOOP, directory: home, name: "link", path: "/home/admin/link", expected: .directory)
                .description.contains("is a symlink"))
    }

    /// The writer's refusals use the same words: what stands at `.ssh` is named, never "a symlink".
    @Test(arguments: [
        ("fifo", "is a FIFO where a directory must be"), ("file", "is a regular file where a directory must be"),
        ("loop", "is a symlink where a directory must be"),
    ])
    func theWriterSaysWhatStandsAtSsh(_ kind: String, _ words: String) throws {
        let t = TempRoot.debian()
        switch kind {
        case "fifo": #expect(mkfifo(t.root + "/home/admin/.ssh", 0o644) == 0)
        case "file": t.file("/home/admin/.ssh", "x")
        default: t.symlink("/home/admin/.ssh", to: ".ssh")
        }
        let request = KeyWriteRequest(
            home: "/home/admin", uid: 1000, gid: 1000, keysFile: "/home/admin/.ssh/authorized_keys",
            keys: [InspectionWarningTests.key], runID: "t", userName: "admin")
        #expect {
            try KeyWriter.write(request, in: SafeRoot(path: t.root))
        } throws: { error in
            (error as? RescueReport.Failure)?.message.contains("/home/admin/.ssh \(words)") == true
        }
    }
}
