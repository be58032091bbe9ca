import Foundation
import Glibc
import Testing

@testable import RescueAgent

@Suite struct SafeRootTests {
    @Test func readsFilesAndListsDirectoriesBeneathTheRoot() throws {
        let tree = try TempTree()
        try tree.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n")
        try tree.write("/etc/cloud/cloud.cfg.d/10.cfg", "a")
        let root = try SafeRoot(hostPath: tree.root)
        #expect(try root.readFile("/etc/passwd").map { String(decoding: $0, as: UTF8.self) }
            == "root:x:0:0::/root:/bin/sh\n")
        #expect(try root.readFile("/etc/missing") == nil)
        #expect(try root.readFile("/nodir/missing") == nil)
        #expect(try root.listDirectory("/etc/cloud/cloud.cfg.d") == ["10.cfg"])
        #expect(try root.listDirectory("/etc/nothing") == nil)
    }

    /// Hostile links: each points outside; resolution must stay in the root (and find nothing there,
    /// or the root's own file), never the host's file.
    @Test(arguments: [
        ("/etc/passwd", "/secret"),  // absolute
        ("/etc/passwd", "../../../../../../../secret"),  // relative, climbing
        ("/etc/passwd", "/../../secret"),
    ])
    func symlinksCannotEscape(link: String, destination: String) throws {
        let tree = try TempTree()
        try tree.write("/secret", "host secret", under: tree.base)
        try tree.mkdir("/etc")
        try tree.symlink(link, to: destination)
        let root = try SafeRoot(hostPath: tree.root)
        #expect(try root.readFile(link) == nil)
        try tree.write("/secret", "the target's own")
        #expect(try root.readFile(link).map { String(decoding: $0, as: UTF8.self) } == "the target's own")
    }

    @Test func homeSymlinkedToSlashStaysInTheRoot() throws {
        let tree = try TempTree()
        try tree.mkdir("/home")
        try tree.symlink("/home/ubuntu", to: "/")
        try tree.write("/marker", "root of target")
        let root = try SafeRoot(hostPath: tree.root)
        #expect(try root.readFile("/home/ubuntu/marker") != nil)
        #expect(try root.readFile("/home/ubuntu/etc/hostname") == nil)
        #expect(try root.listDirectory("/home/ubuntu/..")?.sorted() == ["home", "marker"])
    }

    @Test func dotDotIsClampedAtTheRoot() throws {
        let tree = try TempTree()
        try tree.write("/secret", "outside", under: tree.base)
        let root = try SafeRoot(hostPath: tree.root)
        #expect(try root.readFile("../secret") == nil)
        #expect(try root.readFile("/../../secret") == nil)
    }

    @Test func refusesNonRegularFilesAndHugeFiles() throws {
        let tree = try TempTree()
        try tree.mkdir("/etc/passwd")
        #expect(mkfifo(tree.root + "/fifo", 0o600) == 0)
        try tree.write("/big", String(repeating: "x", count: 2000))
        let root = try SafeRoot(hostPath: tree.root, maxFileSize: 1000)
        #expect(throws: SafeRootError.self) { try root.readFile("/etc/passwd") }
        #expect(throws: SafeRootError.self) { try root.readFile("/fifo") }
        #expect(throws: SafeRootError.self) { try root.readFile("/big") }
    }
}
