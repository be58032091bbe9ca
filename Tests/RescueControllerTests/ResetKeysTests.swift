import Foundation
import RescueController
import Testing

/// `--public-key FILE`: every way it can be wrong is bad input (exit 2) that keeps the system's
/// reason and says what to pass instead.
@Suite struct ResetKeysTests {
    static let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@host"

    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func failure(_ path: String) -> ControllerError? {
        do {
            _ = try ResetKeys.load(publicKey: path, generateKey: nil, instanceID: "i-1")
            return nil
        } catch {
            return error as? ControllerError
        }
    }

    @Test func aMissingFileKeepsTheReason() throws {
        let error = try #require(failure("/nonexistent/id.pub"))
        #expect(error.message == "cannot read /nonexistent/id.pub: No such file or directory")
        #expect(error.exitStatus == .badInput && error.next.contains("--public-key"))
    }

    @Test func aDirectoryKeepsTheReason() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = try #require(failure(dir.path))
        #expect(error.message.hasSuffix(": Is a directory"), "\(error.message)")
    }

    @Test func aPrivateKeyIsRefusedWithWhatToGiveInstead() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("id").path
        try "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(failure(path))
        #expect(error.message.contains("private key") && error.exitStatus == .badInput)
    }

    @Test func thePrivateKeyBesideThePubIsFoundForTheLoginCheck() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pub = dir.appendingPathComponent("id.pub").path
        try (Self.line + "\n").write(toFile: pub, atomically: true, encoding: .utf8)
        #expect(try ResetKeys.load(publicKey: pub, generateKey: nil, instanceID: "i-1").privatePath == nil)
        FileManager.default.createFile(atPath: dir.appendingPathComponent("id").path, contents: Data())
        let keys = try ResetKeys.load(publicKey: pub, generateKey: nil, instanceID: "i-1")
        #expect(keys.publicLine == Self.line && keys.privatePath == dir.appendingPathComponent("id").path)
    }
}
