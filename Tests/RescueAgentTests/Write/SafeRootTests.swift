import Glibc
import Testing

@testable import RescueAgent

/// SafeRoot as TargetFiles against real directories with hostile symlinks: every read resolves
/// beneath the root, never the host's file beside it.
@Suite struct SafeRootTests {
    func text(_ root: SafeRoot, _ path: String) throws -> String? {
        try root.text(path, limit: 1 << 20)
    }

    @Test func readsFilesAndListsDirectoriesBeneathTheRoot() throws {
        let t = TempRoot()
        t.dir("/etc/cloud/cloud.cfg.d")
        t.file("/etc/passwd", "root:x:0:0::/root:/bin/sh\n")
        t.file("/etc/cloud/cloud.cfg.d/10.cfg", "a")
        let root = try SafeRoot(path: t.root)
        #expect(try text(root, "/etc/passwd") == "root:x:0:0::/root:/bin/sh\n")
        #expect(try root.read("/etc/missing", limit: 1 << 20) == nil)
        #expect(try root.read("/nodir/missing", limit: 1 << 20) == nil)
        #expect(try root.entries("/etc/cloud/cloud.cfg.d")?.map(\.name) == ["10.cfg"])
        #expect(try root.entries("/etc/nothing") == nil)
    }

    /// Each link aims at `/outside/secret` (the host); resolution must find the root's own file or nothing.
    @Test(arguments: ["ABS", "../../../../../../../outside/secret", "/../../outside/secret"])
    func symlinksCannotEscape(_ destination: String) throws {
        let t = TempRoot()
        t.dir("/etc")
        t.file("/outside/secret", "host secret")
        t.symlink("/etc/passwd", to: destination == "ABS" ? t.outside + "/secret" : destination)
        let root = try SafeRoot(path: t.root)
        #expect(try root.read("/etc/passwd", limit: 1 << 20) == nil)
        if destination != "ABS" {
            // The clamped path: `/outside/secret` inside the root (TempRoot.file would write the host's).
            mkdir(t.root + "/outside", 0o755)
            let fd = open(t.root + "/outside/secret", O_WRONLY | O_CREAT, 0o644)
            _ = "the target's own".withCString { write(fd, $0, 16) }
            close(fd)
            #expect(try text(root, "/etc/passwd") == "the target's own")
        }
    }

    @Test func homeSymlinkedToSlashStaysInTheRoot() throws {
        let t = TempRoot()
        t.dir("/home")
        t.symlink("/home/ubuntu", to: "/")
        t.file("/marker", "root of target")
        let root = try SafeRoot(path: t.root)
        #expect(try text(root, "/home/ubuntu/marker") == "root of target")
        #expect(try root.entries("/home/ubuntu/../..")?.map(\.name).sorted() == ["home", "marker"])
    }

    @Test func dotDotIsClampedAtTheRoot() throws {
        let t = TempRoot()
        t.file("/outside/secret", "host secret")
        let root = try SafeRoot(path: t.root)
        #expect(try root.read("../outside/secret", limit: 1 << 20) == nil)
        #expect(try root.read("/../../outside/secret", limit: 1 << 20) == nil)
    }

    @Test func refusesNonRegularFilesAndHugeFiles() throws {
        let t = TempRoot()
        t.dir("/etc/passwd")
        #expect(mkfifo(t.root + "/fifo", 0o600) == 0)
        t.file("/big", String(repeating: "x", count: (1 << 20) + 1))
        let root = try SafeRoot(path: t.root)
        #expect(throws: (any Error).self) { try root.read("/etc/passwd", limit: 1 << 20) }
        #expect(throws: (any Error).self) { try root.read("/fifo", limit: 1 << 20) }
        #expect(throws: (any Error).self) { try root.read("/big", limit: 1 << 20) }
    }
}
