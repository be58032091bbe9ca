#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One validated OpenSSH public key line: `type base64 [comment]`.
public struct PublicKey: Equatable, Hashable, Sendable {
    public let type: KeyType
    /// The decoded key blob (what the fingerprint hashes and what identifies the key).
    public let blob: [UInt8]
    public let comment: String?
    /// For ssh-rsa: the modulus size in bits.
    public let bits: Int

    public enum KeyType: String, CaseIterable, Sendable {
        case ed25519 = "ssh-ed25519"
        case ecdsaP256 = "ecdsa-sha2-nistp256"
        case ecdsaP384 = "ecdsa-sha2-nistp384"
        case ecdsaP521 = "ecdsa-sha2-nistp521"
        case rsa = "ssh-rsa"
        case skEd25519 = "sk-ssh-ed25519@openssh.com"
        case skEcdsaP256 = "sk-ecdsa-sha2-nistp256@openssh.com"
    }

    /// The blob in base64, as it appears in authorized_keys.
    public var base64: String { Data(blob).base64EncodedString() }

    /// `SHA256:…` exactly as `ssh-keygen -lf` prints it.
    public var fingerprint: String { Self.fingerprint(ofBlob: blob) }

    public static func fingerprint(ofBlob blob: [UInt8]) -> String {
        // ssh-keygen prints the base64 without its `=` padding.
        "SHA256:" + Data(SHA256.hash(blob)).base64EncodedString().filter { $0 != "=" }
    }

    /// The line to write: `type base64 comment`.
    public var line: String {
        [type.rawValue, base64, comment].compactMap { $0 }.joined(separator: " ")
    }

    /// Parses and checks one public key line (a trailing newline is allowed).
    public init(parsing text: String) throws(PublicKeyError) {
        var body = Substring(text)
        while let last = body.last, last.isNewline { body.removeLast() }
        body = body.drop { $0 == " " || $0 == "\t" }
        while let last = body.last, last == " " || last == "\t" { body.removeLast() }
        guard !body.isEmpty else { throw .empty }
        if Self.looksPrivate(body) { throw .privateKey }
        if body.hasPrefix("---- BEGIN SSH2 PUBLIC KEY") { throw .rfc4716 }
        guard !body.contains(where: \.isNewline) else { throw .multipleLines }

        let fields = body.split(maxSplits: 2, omittingEmptySubsequences: true) { $0 == " " || $0 == "\t" }
        let typeName = String(fields[0])
        guard let type = KeyType(rawValue: typeName) else {
            if fields.dropFirst().contains(where: { KeyType(rawValue: String($0)) != nil || Self.looksLikeType($0) }) {
                throw .hasOptions
            }
            if Self.looksLikeType(fields[0]) { throw .unsupportedType(typeName) }
            throw .notAKey
        }
        guard fields.count >= 2 else { throw .missingBlob }
        guard let blob = Base64.decode(fields[1]) else { throw .badBase64 }
        self.type = type
        self.blob = blob
        let comment = fields.count > 2 ? fields[2].drop { $0 == " " || $0 == "\t" } : ""
        self.comment = comment.isEmpty ? nil : String(comment)
        self.bits = try KeyBlob.check(blob, declared: type)
    }

    private static func looksPrivate(_ text: Substring) -> Bool {
        text.hasPrefix("PuTTY-User-Key-File-") || (text.contains("-----BEGIN ") && text.contains("PRIVATE KEY"))
    }

    private static func looksLikeType(_ token: Substring) -> Bool {
        ["ssh-", "ecdsa-", "sk-", "rsa-sha2-"].contains { token.hasPrefix($0) }
    }
}

/// Why a public key line was refused; each case says what to do.
public enum PublicKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case privateKey
    case rfc4716
    case multipleLines
    case hasOptions
    case unsupportedType(String)
    case notAKey
    case missingBlob
    case badBase64
    case typeMismatch(line: String, blob: String)
    case malformedBlob(String)
    case rsaTooShort(bits: Int)

    public var description: String {
        switch self {
        case .empty: return "the public key is empty: give the contents of a .pub file"
        case .privateKey: return "that is a private key; give the .pub file (e.g. ~/.ssh/id_ed25519.pub)"
        case .rfc4716:
            return "that is an RFC 4716 (SSH2) public key: convert it with `ssh-keygen -i -f FILE` and give the result"
        case .multipleLines: return "the public key spans several lines: give exactly one key line"
        case .hasOptions:
            return "the key line starts with authorized_keys options: give only `type base64 [comment]`"
        case .unsupportedType(let type):
            return
                "key type \(type) is not supported: use ssh-ed25519 (ssh-keygen -t ed25519), ECDSA or RSA ≥ 2048 bits"
        case .notAKey: return "that is not an OpenSSH public key line: expected `ssh-ed25519 AAAA… comment`"
        case .missingBlob: return "the key line has a type but no base64 key after it"
        case .badBase64: return "the key's base64 is garbled (a stray character or a cut): copy the .pub file again"
        case .typeMismatch(let line, let blob):
            return "the line says \(line) but the key inside is \(blob): the line was edited or pasted wrong"
        case .malformedBlob(let detail):
            return "the key is truncated or garbled (\(detail)): copy the .pub file again"
        case .rsaTooShort(let bits):
            return
                "this RSA key has \(bits) bits; at least 2048 are required: make a new key with ssh-keygen -t ed25519"
        }
    }
}
