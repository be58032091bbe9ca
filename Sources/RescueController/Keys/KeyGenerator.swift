import COpenSSL
import Foundation
import Glibc
import RescueModel

/// `--generate-key PATH`: an ed25519 key pair made here with OpenSSL. The private key is written
/// in OpenSSH's own format (what `ssh-keygen` writes; unencrypted, mode 0600, created exclusively)
/// and never leaves this machine; PATH.pub holds the public line that goes to the instance.
public enum KeyGenerator {
    public struct Pair: Sendable {
        public var publicLine: String
        public var privatePath: String
        public var publicPath: String
    }

    public static func generate(at path: String, comment: String) throws -> Pair {
        let (seed, publicKey) = try newKeyPair()
        let blob = sshString("ssh-ed25519") + sshString(publicKey)
        let publicLine = "ssh-ed25519 \(Data(blob).base64EncodedString()) \(comment)"
        let pem = try privateKeyFile(seed: seed, publicKey: publicKey, blob: blob, comment: comment)
        try writeExclusive(path, Array(pem.utf8), mode: 0o600)
        do {
            try writeExclusive(path + ".pub", Array((publicLine + "\n").utf8), mode: 0o644)
        } catch {
            unlink(path)
            throw error
        }
        return Pair(publicLine: publicLine, privatePath: path, publicPath: path + ".pub")
    }

    static func newKeyPair() throws -> (seed: [UInt8], publicKey: [UInt8]) {
        guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else {
            throw ControllerError.cannotGenerateKey("this OpenSSL has no ed25519")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_keygen(ctx, &key) == 1, let key else {
            throw ControllerError.cannotGenerateKey("OpenSSL's key generation failed")
        }
        defer { EVP_PKEY_free(key) }
        var seed = [UInt8](repeating: 0, count: 32)
        var publicKey = [UInt8](repeating: 0, count: 32)
        var seedLength = 32
        var publicLength = 32
        guard EVP_PKEY_get_raw_private_key(key, &seed, &seedLength) == 1,
            EVP_PKEY_get_raw_public_key(key, &publicKey, &publicLength) == 1,
            seedLength == 32, publicLength == 32
        else { throw ControllerError.cannotGenerateKey("OpenSSL did not give the raw key") }
        return (seed, publicKey)
    }

    /// openssh-key-v1: magic, cipher/kdf "none", one public key, then the private section with
    /// two equal check ints, the key (private = seed ‖ public), the comment, and 1,2,3… padding.
    static func privateKeyFile(seed: [UInt8], publicKey: [UInt8], blob: [UInt8], comment: String) throws -> String {
        var check = [UInt8](repeating: 0, count: 4)
        // The check ints must be random; a failed RAND_bytes would leave zeros.
        guard RAND_bytes(&check, 4) == 1 else { throw ControllerError.cannotGenerateKey("OpenSSL's RAND_bytes failed") }
        var section = check + check
        section +=
            sshString("ssh-ed25519") + sshString(publicKey) + sshString(seed + publicKey)
            + sshString(Array(comment.utf8))
        var pad: UInt8 = 1
        while section.count % 8 != 0 {
            section.append(pad)
            pad += 1
        }
        var body = Array("openssh-key-v1".utf8) + [0]
        body +=
            sshString("none") + sshString("none") + sshString([UInt8]()) + uint32(1) + sshString(blob)
            + sshString(section)
        let base64 = Data(body).base64EncodedString()
        let lines = stride(from: 0, to: base64.count, by: 70).map { start -> String in
            let s = base64.index(base64.startIndex, offsetBy: start)
            return String(base64[s..<(base64.index(s, offsetBy: 70, limitedBy: base64.endIndex) ?? base64.endIndex)])
        }
        return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + lines.joined(separator: "\n")
            + "\n-----END OPENSSH PRIVATE KEY-----\n"
    }

    static func uint32(_ v: Int) -> [UInt8] {
        [UInt8(v >> 24 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
    }
    static func sshString(_ s: String) -> [UInt8] { sshString(Array(s.utf8)) }
    static func sshString(_ b: [UInt8]) -> [UInt8] { uint32(b.count) + b }

    static func writeExclusive(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw errno == EEXIST
                ? ControllerError.badInput(
                    "\(path) already exists",
                    next: "choose another path for --generate-key: keyrescue never overwrites a key")
                : ControllerError.badInput(
                    "cannot create \(path): \(reason)", next: "choose a path in a directory you can write to")
        }
        defer { close(fd) }
        guard fchmod(fd, mode) == 0, bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count,
            fsync(fd) == 0
        else {
            let reason = String(cString: strerror(errno))
            throw ControllerError.badInput(
                "cannot write \(path): \(reason)", next: "free some space or choose another path for --generate-key")
        }
    }
}
