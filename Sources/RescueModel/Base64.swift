/// Strict base64 decoding (RFC 4648, standard alphabet) for OpenSSH key blobs: any stray character
/// is an error rather than being skipped, so a garbled paste is caught. Encoding is Foundation's
/// `base64EncodedString`, the one encoder everywhere.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// Decodes with or without `=` padding; nil on any character outside the alphabet, misplaced
    /// padding, an impossible length, or non-zero leftover bits.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var chars = Array(text.utf8)
        if chars.count % 4 == 0 {
            while chars.last == UInt8(ascii: "="), chars.count % 4 != 1 { chars.removeLast() }
            if chars.last == UInt8(ascii: "=") { return nil }
        }
        guard chars.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for c in chars {
            let v = values[Int(c)]
            guard v != 0xff else { return nil }
            buffer = buffer << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        guard buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
