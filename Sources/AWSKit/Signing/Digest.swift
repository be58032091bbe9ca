import COpenSSL
import Foundation

/// SHA-256, SHA-1 and HMAC-SHA256 through libcrypto's one-shot calls (no context to free).
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
        _ = key.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), d.baseAddress, d.count, &out, &length)
            }
        }
        return Array(out.prefix(Int(length)))
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
        _ = bytes.withUnsafeBufferPointer { b in
            EVP_Digest(b.baseAddress, b.count, &out, &written, md, nil)
        }
        return out
    }
}
