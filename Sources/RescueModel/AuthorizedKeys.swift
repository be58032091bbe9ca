#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Edits authorized_keys content as bytes: existing lines are kept byte for byte (comments, blanks,
/// options, CRLF, even invalid UTF-8), in their order; the new key is added once after a marker line.
public enum AuthorizedKeys {
    public struct Edit: Equatable, Sendable {
        /// The file's new content.
        public var content: [UInt8]
        /// False when `content` equals the old file (nothing to write).
        public var changed: Bool
        /// Every new key was already in the file (before any `replace` removal).
        public var alreadyPresent: Bool
        /// Non-blank lines that `replace` removed, as text (for the report and the backup note).
        public var removed: [String]
        /// Lines that already held a new key behind options; the key went in plainly before them.
        public var keysBehindOptions: [String] = []
    }

    /// `# keyrescue RUN-ID 2026-11-25T06:30:00Z`; the run id is reduced to safe characters.
    public static func marker(runID: String, date: Date) -> String {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-:")
        let safe = String(runID.filter(allowed.contains))
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        return "# keyrescue \(safe.isEmpty ? "run" : safe) \(UTCTimestamp.format(secondsSince1970: seconds))"
    }

    /// Adds `keys` (or, with `replace`, keeps only them). `existing` nil means no file yet.
    /// A key counts as present only when the first line holding it has no options: sshd applies
    /// that line's options, so a key found behind `command="…"` or `from=…` is added again,
    /// plainly, just before that line (existing lines keep their bytes and order).
    public static func edit(
        existing: [UInt8]?, adding keys: [PublicKey], runID: String, date: Date, replace: Bool
    ) -> Edit {
        let old = existing ?? []
        let lines = splitLines(old)
        let usesCRLF = lines.first.map { $0.last == UInt8(ascii: "\r") } ?? false
        let ending: [UInt8] = usesCRLF ? [13, 10] : [10]
        let holders = firstHolders(lines)
        let wanted = keys.map(identity)
        let alreadyPresent = !keys.isEmpty && wanted.allSatisfy { holders[$0]?.hasOptions == false }
        let block = { (added: [PublicKey]) in
            ([marker(runID: runID, date: date)] + added.map(\.line)).flatMap { Array($0.utf8) + ending }
        }

        if replace {
            let parsed = lines.compactMap { AuthorizedKeysLine.parse($0) }
            let onlyWanted =
                parsed.count == wanted.count && parsed.allSatisfy { !$0.hasOptions }
                && Set(parsed.map(\.identity)) == Set(wanted)
            if onlyWanted { return Edit(content: old, changed: false, alreadyPresent: alreadyPresent, removed: []) }
            let removed = lines.filter { line in
                guard !isBlank(line) else { return false }
                guard let key = AuthorizedKeysLine.parse(line) else { return true }
                return key.hasOptions || !wanted.contains(key.identity)
            }.map { String(decoding: $0, as: UTF8.self) }
            let content = block(keys)
            return Edit(content: content, changed: content != old, alreadyPresent: alreadyPresent, removed: removed)
        }
        let missing = keys.filter { holders[identity($0)]?.hasOptions != false }
        guard !missing.isEmpty else { return Edit(content: old, changed: false, alreadyPresent: true, removed: []) }
        let restricted = missing.compactMap { holders[identity($0)].flatMap { $0.hasOptions ? $0.index : nil } }
        guard let first = restricted.min() else {
            var content = old
            if let last = content.last, last != 10 { content += ending }
            return Edit(content: content + block(missing), changed: true, alreadyPresent: false, removed: [])
        }
        let offset = lines[first].startIndex
        let content = Array(old[..<offset]) + block(missing) + Array(old[offset...])
        let behind = Set(restricted).sorted().map { String(decoding: lines[$0], as: UTF8.self) }
        return Edit(content: content, changed: true, alreadyPresent: false, removed: [], keysBehindOptions: behind)
    }

    /// The keys of `keys` that sshd would not accept plainly from `content`: no line holds them, or
    /// the first line that does carries options.
    public static func missing(_ keys: [PublicKey], in content: [UInt8]) -> [PublicKey] {
        let holders = firstHolders(splitLines(content))
        return keys.filter { holders[identity($0)]?.hasOptions != false }
    }

    /// For each key in the file, the first line holding it (the one sshd uses) and whether it has options.
    static func firstHolders(_ lines: [ArraySlice<UInt8>]) -> [AuthorizedKeysLine.Identity: (
        index: Int, hasOptions: Bool
    )] {
        var holders: [AuthorizedKeysLine.Identity: (index: Int, hasOptions: Bool)] = [:]
        for (index, line) in lines.enumerated() {
            guard let key = AuthorizedKeysLine.parse(line), holders[key.identity] == nil else { continue }
            holders[key.identity] = (index, key.hasOptions)
        }
        return holders
    }

    private static func identity(_ key: PublicKey) -> AuthorizedKeysLine.Identity {
        AuthorizedKeysLine.Identity(type: key.type.rawValue, blob: key.blob)
    }

    /// Lines without their `\n` (a `\r` stays, so CRLF lines are kept byte for byte).
    static func splitLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines = bytes.split(separator: 10, omittingEmptySubsequences: false)
        if bytes.last == 10 { lines.removeLast() }
        return lines
    }

    private static func isBlank(_ line: ArraySlice<UInt8>) -> Bool {
        line.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 }
    }
}
