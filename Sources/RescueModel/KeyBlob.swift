/// Checks an SSH public key blob field by field (RFC 4253 §6.6, RFC 5656, PROTOCOL.u2f), with exact
/// lengths and nothing left over, so a truncated or spliced key is refused before it is written.
enum KeyBlob {
    /// Returns the key size in bits (RSA modulus bits; curve size otherwise).
    static func check(_ blob: [UInt8], declared: PublicKey.KeyType) throws(PublicKeyError) -> Int {
        var reader = Reader(bytes: blob[...])
        let embedded = try reader.string("the key type")
        guard let embeddedName = String(validating: embedded, as: UTF8.self) else {
            throw .malformedBlob("the embedded key type is not text")
        }
        guard embeddedName == declared.rawValue else {
            throw .typeMismatch(line: declared.rawValue, blob: embeddedName.isEmpty ? "empty" : embeddedName)
        }
        let bits: Int
        switch declared {
        case .ed25519:
            try reader.exact(32, "the ed25519 key")
            bits = 256
        case .skEd25519:
            try reader.exact(32, "the ed25519 key")
            _ = try reader.string("the security key application")
            bits = 256
        case .ecdsaP256, .ecdsaP384, .ecdsaP521, .skEcdsaP256:
            bits = try checkECDSA(&reader, declared)
        case .rsa:
            let exponent = try reader.mpint("the RSA exponent")
            guard exponent.bits > 1 else { throw .malformedBlob("the RSA exponent is \(exponent.bits == 0 ? 0 : 1)") }
            bits = try reader.mpint("the RSA modulus").bits
            guard bits >= 2048 else { throw .rsaTooShort(bits: bits) }
        }
        guard reader.isAtEnd else { throw .malformedBlob("\(reader.remaining) unexpected bytes after the key") }
        return bits
    }

    private static func checkECDSA(_ reader: inout Reader, _ type: PublicKey.KeyType) throws(PublicKeyError) -> Int {
        let (curve, pointLength, bits): (String, Int, Int) =
            switch type {
            case .ecdsaP384: ("nistp384", 97, 384)
            case .ecdsaP521: ("nistp521", 133, 521)
            default: ("nistp256", 65, 256)
            }
        let name = try reader.string("the curve name")
        guard name.elementsEqual(curve.utf8) else { throw .malformedBlob("the curve is not \(curve)") }
        let point = try reader.string("the curve point")
        guard point.count == pointLength, point.first == 0x04 else {
            throw .malformedBlob("the curve point has \(point.count) bytes, expected \(pointLength) uncompressed")
        }
        if type == .skEcdsaP256 { _ = try reader.string("the security key application") }
        return bits
    }

    struct Reader {
        var bytes: ArraySlice<UInt8>
        var isAtEnd: Bool { bytes.isEmpty }
        var remaining: Int { bytes.count }

        mutating func string(_ what: String) throws(PublicKeyError) -> ArraySlice<UInt8> {
            guard bytes.count >= 4 else { throw .malformedBlob("cut before the length of \(what)") }
            let length = bytes.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            bytes = bytes.dropFirst(4)
            guard length <= bytes.count else { throw .malformedBlob("cut inside \(what)") }
            defer { bytes = bytes.dropFirst(length) }
            return bytes.prefix(length)
        }

        mutating func exact(_ count: Int, _ what: String) throws(PublicKeyError) {
            let field = try string(what)
            guard field.count == count else {
                throw .malformedBlob("\(what) has \(field.count) bytes, expected \(count)")
            }
        }

        /// An SSH mpint; must be positive and minimally encoded. Returns its bit length.
        mutating func mpint(_ what: String) throws(PublicKeyError) -> (value: ArraySlice<UInt8>, bits: Int) {
            var value = try string(what)
            guard let first = value.first else { return (value, 0) }
            guard first & 0x80 == 0 else { throw .malformedBlob("\(what) is negative") }
            if first == 0 {
                guard let next = value.dropFirst().first, next & 0x80 != 0 else {
                    throw .malformedBlob("\(what) has a superfluous leading zero")
                }
                value = value.dropFirst()
            }
            guard let top = value.first else { return (value, 0) }
            return (value, (value.count - 1) * 8 + (8 - top.leadingZeroBitCount))
        }
    }
}
