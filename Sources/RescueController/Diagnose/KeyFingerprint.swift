import AWSKit
import COpenSSL
import Foundation

/// EC2's key pair fingerprints, computed from an OpenSSH public key line, so `diagnose` can tell
/// which `~/.ssh/*.pub` (if any) belongs to the instance's key pair. EC2's rules: "Verify your key
/// pair's fingerprint" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/verify-keys.html):
/// ED25519 (created or imported): SHA-256 digest, base64; imported RSA: MD5 of the DER public key,
/// colon hex; RSA created by EC2: SHA-1 of the private key, which a .pub file cannot give.
public enum KeyFingerprint {
    /// The fingerprint EC2 shows for this public key if it was imported (or is ED25519), or nil
    /// when the line is not an ssh-ed25519 or ssh-rsa key.
    public static func ec2(publicKeyLine line: String) -> String? {
        let fields = line.split(whereSeparator: \.isWhitespace)
        guard fields.count >= 2, let blob = Data(base64Encoded: String(fields[1])) else { return nil }
        switch fields[0] {
        case "ssh-ed25519": return Data(Digest.sha256(blob)).base64EncodedString()
        case "ssh-rsa":
            guard let der = rsaPublicKeyDER(sshBlob: [UInt8](blob)) else { return nil }
            return colonHex(md5(der))
        default: return nil
        }
    }

    /// EC2's fingerprint format tells how it was made: 20 colon-separated bytes is SHA-1 of an
    /// EC2-created RSA private key, which no public key can be matched against.
    public static func isPrivateKeySHA1(_ fingerprint: String) -> Bool {
        fingerprint.split(separator: ":").count == 20
    }

    /// SubjectPublicKeyInfo DER of the RSA key in an OpenSSH `ssh-rsa` blob (string type, mpint e, mpint n).
    static func rsaPublicKeyDER(sshBlob blob: [UInt8]) -> [UInt8]? {
        var cursor = 0
        func field() -> [UInt8]? {
            guard cursor + 4 <= blob.count else { return nil }
            let length = blob[cursor..<cursor + 4].reduce(0) { $0 << 8 | Int($1) }
            cursor += 4
            guard length >= 0, cursor + length <= blob.count else { return nil }
            defer { cursor += length }
            return Array(blob[cursor..<cursor + length])
        }
        guard let type = field(), type == Array("ssh-rsa".utf8), let e = field(), let n = field() else { return nil }
        // An SSH mpint is a two's complement big-endian integer, as DER's INTEGER content is.
        let rsaKey = der(0x30, der(0x02, n) + der(0x02, e))
        let rsaEncryption: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00]
        return der(0x30, der(0x30, rsaEncryption) + der(0x03, [0x00] + rsaKey))
    }

    static func der(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        let count = content.count
        if count < 0x80 { return [tag, UInt8(count)] + content }
        var lengthBytes: [UInt8] = []
        var rest = count
        while rest > 0 {
            lengthBytes.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        }
        return [tag, 0x80 | UInt8(lengthBytes.count)] + lengthBytes + content
    }

    static func md5(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        var length: UInt32 = 0
        _ = data.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer {
                EVP_Digest(input.baseAddress, input.count, $0.baseAddress, &length, EVP_md5(), nil)
            }
        }
        return out
    }

    static func colonHex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined(separator: ":")
    }
}

/// Whether a local public key is the instance's key pair.
public enum KeyMatch: Sendable, Equatable {
    case matches(path: String)
    case noMatch(checked: Int)
    case cannotTell(String)

    /// Compares EC2's fingerprint with every public key file given (path, contents).
    public static func of(ec2Fingerprint: String?, publicKeys: [(path: String, contents: String)]) -> KeyMatch {
        guard let fingerprint = ec2Fingerprint?.trimmingCharacters(in: .whitespaces), !fingerprint.isEmpty else {
            return .cannotTell("the instance has no key pair, or its fingerprint could not be read")
        }
        if KeyFingerprint.isPrivateKeySHA1(fingerprint) {
            return .cannotTell(
                "the key pair was created by EC2 (SHA-1 of the private key): compare with the private key file")
        }
        // Hex (MD5) compares without case; base64 (SHA-256) with case, padding or not.
        func normal(_ text: String) -> String {
            text.contains(":") ? text.lowercased() : text.replacingOccurrences(of: "=", with: "")
        }
        for key in publicKeys {
            for line in key.contents.split(separator: "\n") {
                guard let mine = KeyFingerprint.ec2(publicKeyLine: String(line)) else { continue }
                if normal(mine) == normal(fingerprint) { return .matches(path: key.path) }
            }
        }
        return .noMatch(checked: publicKeys.count)
    }
}
