import Foundation
import Glibc
import RescueModel
import Testing

@testable import RescueAgent

private let isRoot = getuid() == 0
private let keyA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKQUGdN1G5RW2wYw+Ckrj4DsQ0UOn7hE5OSj39jRn3sS new@laptop"
private let keyOld = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl old@box"

/// Writes as root so owner changes are real; the checks need root to fchown.
@Suite(.enabled(if: isRoot, "fchown to the target's uid needs root"))
struct KeyWriterTests {
    func request(_ tree: TempTree, replace: Bool = false, dryRun: Bool = false, file: String? = nil) throws
        -> KeyWriteRequest
    {
        KeyWriteRequest(
            home: "/home/ubuntu", uid: 1000, gid: 1001,
            authorizedKeysFiles: [file ?? "/home/ubuntu/.ssh/authorized_keys"],
            keys: [try PublicKey(parsing: keyA)], replace: replace, dryRun: dryRun, runID: "run-1",
            date: Date(timeIntervalSince1970: 1_790_000_000))
    }

    func stat(_ path: String) -> stat {
        var info = Glibc.stat()
        _ = lstat(path, &info)
        return info
    }

    func text(_ path: String) -> String? { FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } }

    @Test func createsSSHDirectoryAndFileWithOwnerAndMode() throws {
        let tree = try TempTree()
        try tree.mkdir("/home/ubuntu")
        let result = try KeyWriter(root: SafeRoot(hostPath: tree.root)).write(request(tree))
        #expect(result.createdSSHDirectory && result.changed && !result.alreadyPresent && result.backupPath == nil)
        let dir = stat(tree.root + "/home/ubuntu/.ssh")
        #expect(dir.st_uid == 1000 && dir.st_gid == 1001 && dir.st_mode & 0o7777 == 0o700)
        let file = stat(tree.root + "/home/ubuntu/.ssh/authorized_keys")
        #expect(file.st_uid == 1000 && file.st_gid == 1001 && file.st_mode & 0o7777 == 0o600)
        #expect(text(tree.root + "/home/ubuntu/.ssh/authorized_keys")?.contains("# keyrescue run-1 ") == true)
        #expect(text(tree.root + "/home/ubuntu/.ssh/authorized_keys")?.hasSuffix(keyA + "\n") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tree.root + "/home/ubuntu/.ssh") == ["authorized_keys"])
    }

    @Test func keepsExistingLinesAndABackupThenIsIdempotent() throws {
        let tree = try TempTree()
        try tree.write("/home/ubuntu/.ssh/authorized_keys", "# mine\n\(keyOld)\n")
        let writer = try KeyWriter(root: SafeRoot(hostPath: tree.root))
        let first = try writer.write(request(tree))
        let path = tree.root + "/home/ubuntu/.ssh/authorized_keys"
        #expect(text(path)?.hasPrefix("# mine\n\(keyOld)\n# keyrescue run-1") == true)
        let backup = try #require(first.backupPath)
        #expect(text(tree.root + backup) == "# mine\n\(keyOld)\n")
        let again = try writer.write(request(tree))
        #expect(again.alreadyPresent && !again.changed && again.backupPath == nil)
        #expect(text(path)?.components(separatedBy: keyA).count == 2)
    }

    @Test func replaceKeepsOnlyTheNewKey() throws {
        let tree = try TempTree()
        try tree.write("/home/ubuntu/.ssh/authorized_keys", "\(keyOld)\n")
        let result = try KeyWriter(root: SafeRoot(hostPath: tree.root)).write(request(tree, replace: true))
        let content = try #require(text(tree.root + "/home/ubuntu/.ssh/authorized_keys"))
        #expect(!content.contains("old@box") && content.contains(keyA))
        #expect(result.removed == [keyOld])
    }

    @Test func alreadyPresentKeyFixesAWrongMode() throws {
        let tree = try TempTree()
        try tree.write("/home/ubuntu/.ssh/authorized_keys", "\(keyA)\n")
        let path = tree.root + "/home/ubuntu/.ssh/authorized_keys"
        chmod(path, 0o644)
        let result = try KeyWriter(root: SafeRoot(hostPath: tree.root)).write(request(tree))
        #expect(result.alreadyPresent)
        #expect(stat(path).st_mode & 0o7777 == 0o600 && stat(path).st_uid == 1000)
    }

    @Test func dryRunWritesNothing() throws {
        let tree = try TempTree()
        try tree.write("/home/ubuntu/.ssh/authorized_keys", "\(keyOld)\n")
        try tree.mkdir("/home/admin")
        let before = tree.snapshot(tree.base)
        let writer = try KeyWriter(root: SafeRoot(hostPath: tree.root))
        let result = try writer.write(request(tree, dryRun: true))
        #expect(result.changed && result.backupPath != nil)
        var other = try request(tree, dryRun: true)
        other.home = "/home/admin"
        other.authorizedKeysFiles = ["/home/admin/.ssh/authorized_keys"]
        #expect(try writer.write(other).createdSSHDirectory)
        #expect(tree.snapshot(tree.base) == before)
        #expect(!FileManager.default.fileExists(atPath: tree.root + "/home/admin/.ssh"))
    }

    /// Symlinked home, `.ssh` or file (absolute, relative, to `/`): refused, nothing outside changes.
    @Test(arguments: [
        ("/home/ubuntu", "/"), ("/home/ubuntu", "../../outside"),
        ("/home/ubuntu/.ssh", "/etc"), ("/home/ubuntu/.ssh", "../../../outside"),
        ("/home/ubuntu/.ssh/authorized_keys", "/outside/victim"),
        ("/home/ubuntu/.ssh/authorized_keys", "../../../../outside/victim"),
    ])
    func symlinksAreRefused(link: String, destination: String) throws {
        let tree = try TempTree()
        try tree.write("/victim", "host file\n", under: tree.outside)
        try tree.mkdir((link as NSString).deletingLastPathComponent)
        try tree.symlink(link, to: destination)
        let before = tree.snapshot(tree.outside)
        #expect(throws: SafeRootError.self) { try KeyWriter(root: SafeRoot(hostPath: tree.root)).write(request(tree)) }
        #expect(tree.snapshot(tree.outside) == before)
    }

    @Test func dotDotInThePathIsRefused() throws {
        let tree = try TempTree()
        try tree.mkdir("/home/ubuntu/.ssh")
        let writer = try KeyWriter(root: SafeRoot(hostPath: tree.root))
        #expect(throws: SafeRootError.self) {
            try writer.write(request(tree, file: "/home/ubuntu/../ubuntu/.ssh/authorized_keys"))
        }
    }
}
