/// Reads one authorized_keys line the way sshd does: `[options] type base64 [comment]`, where
/// options are comma-separated and may hold double-quoted strings with spaces and `\"`.
public enum AuthorizedKeysLine {
    /// What identifies a key regardless of its options and comment.
    public struct Identity: Hashable, Sendable {
        public let type: String
        public let blob: [UInt8]
    }

    /// A key line: which key, and whether options (`command="…"`, `restrict`, `from=…`,
    /// `cert-authority`…) stand before it. sshd applies the options of the first line holding the
    /// key, so a key behind options gives a forced command, no login from here, or no login at all.
    public struct Parsed: Equatable, Sendable {
        public let identity: Identity
        /// The options as written (`command="…",from="…"`); empty when the line has none.
        public let options: String
        public var hasOptions: Bool { !options.isEmpty }
    }

    /// Nil for blanks, comments and lines that hold no readable key.
    public static func identity(of line: some Collection<UInt8>) -> Identity? { parse(line)?.identity }

    /// Nil for blanks, comments and lines that hold no readable key.
    public static func parse(_ line: some Collection<UInt8>) -> Parsed? {
        let bytes = Array(line)
        var rest = trimmed(bytes[...])
        guard let first = rest.first, first != UInt8(ascii: "#") else { return nil }
        var fields = split(rest)
        var options = ""
        if let type = fields.first, !isKeyType(type) {
            // Options come first: skip them (quotes may hide spaces), then read the key.
            let start = rest.startIndex
            rest = skipOptions(rest)
            fields = split(rest)
            options = String(decoding: trimmed(bytes[start..<rest.startIndex]), as: UTF8.self)
        }
        guard fields.count >= 2, isKeyType(fields[0]),
            let blob = Base64.decode(String(decoding: fields[1], as: UTF8.self))
        else { return nil }
        return Parsed(
            identity: Identity(type: String(decoding: fields[0], as: UTF8.self), blob: blob), options: options)
    }

    /// Any token shaped like an OpenSSH key type, including ones this program would not install
    /// (an existing `ssh-dss` line still counts as a key to keep or remove).
    static func isKeyType(_ token: ArraySlice<UInt8>) -> Bool {
        let text = String(decoding: token, as: UTF8.self)
        return ["ssh-", "ecdsa-sha2-", "sk-", "rsa-sha2-", "x509v3-"].contains { text.hasPrefix($0) }
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes.drop(while: isBlank)
        while let last = slice.last, isBlank(last) { slice = slice.dropLast() }
        return slice
    }

    private static func split(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        bytes.split(maxSplits: 2, omittingEmptySubsequences: true, whereSeparator: isBlank)
    }

    private static func skipOptions(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var inQuotes = false
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), inQuotes, bytes.index(after: index) < bytes.endIndex {
                index = bytes.index(index, offsetBy: 2)
                continue
            }
            if byte == UInt8(ascii: "\"") { inQuotes.toggle() }
            if !inQuotes, isBlank(byte) { break }
            index = bytes.index(after: index)
        }
        return bytes[index...].drop(while: isBlank)
    }
}
