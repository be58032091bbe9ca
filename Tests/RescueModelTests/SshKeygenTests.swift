import Foundation
import RescueModel
import Testing

/// Cross-checks fingerprints against the real `ssh-keygen` for keys generated now.
@Suite struct SshKeygenTests {
    static let sshKeygen = ["/usr/bin/ssh-keygen", "/bin/ssh-keygen"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    @Test(
        .enabled(if: sshKeygen != nil, "ssh-keygen is not installed (apt install openssh-client)"),
        arguments: [["-t", "ed25519"], ["-t", "ecdsa", "-b", "384"], ["-t", "rsa", "-b", "3072"]])
    func fingerprintMatchesSshKeygen(typeArguments: [String]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyPath = dir.appendingPathComponent("key").path
        _ = try run(["-q", "-N", "", "-C", "test@keyrescue", "-f", keyPath] + typeArguments)
        let line = try String(contentsOfFile: keyPath + ".pub", encoding: .utf8)
        let printed = try run(["-lf", keyPath + ".pub"]).split(separator: " ")[1]
        #expect(try PublicKey(parsing: line).fingerprint == String(printed))
        #expect(throws: PublicKeyError.privateKey) {
            try PublicKey(parsing: String(contentsOfFile: keyPath, encoding: .utf8))
        }
    }

    private func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.sshKeygen ?? "ssh-keygen")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: output, as: UTF8.self)
    }
}
