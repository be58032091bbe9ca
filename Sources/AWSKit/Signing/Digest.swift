import COpenSSL
import Foundation

/// SHA-256, SHA-1 and HMAC-SHA256 through libcrypto's one-shot calls (no context to free).
/// Each call's result is checked: a failure would leave an all-zero digest that signs requests
/// and checks the agent's hash without a word. With a fixed algorithm they fail only when memory
/// runs out, so a failure stops the process rather than making every caller handle it.
public enum Digest {
    /// SHA-256 of `data`. The corresponding C function is `EVP_Digest`.
    public static func sha256(_ data: some DataProtocol) -> [UInt8] {
        digest(Array(data), EVP_sha256(), length: 32)
    }

    /// SHA-1 of `data` (the SSO token cache names its files with it).
    public static func sha1(_ data: some DataProtocol) -> [UInt8] {
        digest(Array(data), EVP_sha1(), length: 20)
    }

    /// HMAC-SHA256 of `data` under `key`. The corresponding C function is `HMAC`.
    public static func hmacSHA256(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let result = key.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), d.baseAddress, d.count, &out, &length)
            }
        }
        precondition(result != nil && length == 32, "libcrypto's HMAC failed (out of memory?)")
        return out
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func digest(_ bytes: [UInt8], _ md: OpaquePointer?, length: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        var written: UInt32 = 0
        let ok = bytes.withUnsafeBufferPointer { b in
            EVP_Digest(b.baseAddress, b.count, &out, &written, md, nil)
        }
        precondition(ok == 1 && written == length, "libcrypto's EVP_Digest failed (out of memory?)")
        return out
    }
}
