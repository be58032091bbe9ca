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
    }

    /// `# keyrescue RUN-ID 2026-11-25T06:30:00Z`; the run id is reduced to safe characters.
    public static func marker(runID: String, date: Date) -> String {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-:")
        let safe = String(runID.filter(allowed.contains))
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        return "# keyrescue \(safe.isEmpty ? "run" : safe) \(UTCTimestamp.format(secondsSince1970: seconds))"
    }

    /// Adds `keys` (or, with `replace`, keeps only them). `existing` nil means no file yet.
    public static func edit(
        existing: [UInt8]?, adding keys: [PublicKey], runID: String, date: Date, replace: Bool
    ) -> Edit {
        let old = existing ?? []
        let lines = splitLines(old)
        let usesCRLF = lines.first.map { $0.last == UInt8(ascii: "\r") } ?? false
        let ending: [UInt8] = usesCRLF ? [13, 10] : [10]
        let present = Set(lines.compactMap { AuthorizedKeysLine.identity(of: $0) })
        let wanted = keys.map { AuthorizedKeysLine.Identity(type: $0.type.rawValue, blob: $0.blob) }
        let alreadyPresent = !keys.isEmpty && wanted.allSatisfy(present.contains)
        let newBlock = ([marker(runID: runID, date: date)] + keys.map(\.line)).flatMap { Array($0.utf8) + ending }

        if replace {
            let keyLines = lines.filter { AuthorizedKeysLine.identity(of: $0) != nil }
            let onlyWanted = keyLines.count == wanted.count
                && Set(keyLines.compactMap { AuthorizedKeysLine.identity(of: $0) }) == Set(wanted)
            if onlyWanted { return Edit(content: old, changed: false, alreadyPresent: alreadyPresent, removed: []) }
            let removed = lines.filter { line in
                !isBlank(line) && AuthorizedKeysLine.identity(of: line).map { !wanted.contains($0) } ?? true
            }.map { String(decoding: $0, as: UTF8.self) }
            return Edit(content: newBlock, changed: newBlock != old, alreadyPresent: alreadyPresent, removed: removed)
        }
        let missing = keys.filter { !present.contains(AuthorizedKeysLine.Identity(type: $0.type.rawValue, blob: $0.blob)) }
        guard !missing.isEmpty else { return Edit(content: old, changed: false, alreadyPresent: true, removed: []) }
        var content = old
        if let last = content.last, last != 10 { content += ending }
        content += ([marker(runID: runID, date: date)] + missing.map(\.line)).flatMap { Array($0.utf8) + ending }
        return Edit(content: content, changed: true, alreadyPresent: false, removed: [])
    }

    /// The keys of `keys` that no line of `content` holds (options and comments ignored).
    public static func missing(_ keys: [PublicKey], in content: [UInt8]) -> [PublicKey] {
        let present = Set(splitLines(content).compactMap { AuthorizedKeysLine.identity(of: $0) })
        return keys.filter { !present.contains(AuthorizedKeysLine.Identity(type: $0.type.rawValue, blob: $0.blob)) }
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
