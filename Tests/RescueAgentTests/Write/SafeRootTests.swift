import Glibc
import Testing

@testable import RescueAgent

/// SafeRoot as TargetFiles against real directories with hostile symlinks: every read resolves
/// beneath the root, never the host's file beside it.
@Suite struct SafeRootTests {
    func text(_ root: SafeRoot, _ path: String) throws -> String? {
        try root.readFile(path).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func readsFilesAndListsDirectoriesBeneathTheRoot() throws {
        let t = TempRoot()
        t.dir("/etc/cloud/cloud.cfg.d")
        t.file("/etc/passwd", "root:x:0:0::/root:/bin/sh\n")
        t.file("/etc/cloud/cloud.cfg.d/10.cfg", "a")
        let root = try SafeRoot(path: t.root)
        #expect(try text(root, "/etc/passwd") == "root:x:0:0::/root:/bin/sh\n")
        #expect(try root.readFile("/etc/missing") == nil)
        #expect(try root.readFile("/nodir/missing") == nil)
        #expect(try root.listDirectory("/etc/cloud/cloud.cfg.d") == ["10.cfg"])
        #expect(try root.listDirectory("/etc/nothing") == nil)
    }

    /// Each link aims at `/outside/secret` (the host); resolution must find the root's own file or nothing.
    @Test(arguments: ["ABS", "../../../../../../../outside/secret", "/../../outside/secret"])
    func symlinksCannotEscape(_ destination: String) throws {
        let t = TempRoot()
        t.dir("/etc")
        t.file("/outside/secret", "host secret")
        t.symlink("/etc/passwd", to: destination == "ABS" ? t.outside + "/secret" : destination)
        let root = try SafeRoot(path: t.root)
        #expect(try root.readFile("/etc/passwd") == nil)
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
        #expect(try root.listDirectory("/home/ubuntu/../..")?.sorted() == ["home", "marker"])
    }

    @Test func dotDotIsClampedAtTheRoot() throws {
        let t = TempRoot()
        t.file("/outside/secret", "host secret")
        let root = try SafeRoot(path: t.root)
        #expect(try root.readFile("../outside/secret") == nil)
        #expect(try root.readFile("/../../outside/secret") == nil)
    }

    @Test func refusesNonRegularFilesAndHugeFiles() throws {
        let t = TempRoot()
        t.dir("/etc/passwd")
        #expect(mkfifo(t.root + "/fifo", 0o600) == 0)
        t.file("/big", String(repeating: "x", count: SafeRoot.maxFileSize + 1))
        let root = try SafeRoot(path: t.root)
        #expect(throws: (any Error).self) { try root.readFile("/etc/passwd") }
        #expect(throws: (any Error).self) { try root.readFile("/fifo") }
        #expect(throws: (any Error).self) { try root.readFile("/big") }
    }
}
