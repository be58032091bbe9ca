/// Wildcard patterns, matched in time linear in the pattern (and at most quadratic in the name,
/// which is one path component or an account name): the pattern is cut at its `*`s into segments
/// of one-byte elements; the first segment must start the name, the last must end it, and each one
/// between is found at its leftmost place. With no `*` able to match a `/` or to backtrack into an
/// earlier segment, that greedy choice is never worse than any other, so nothing is retried.
/// Bytes are compared, as the C library and OpenSSH compare them.
public struct WildcardPattern: Sendable {
    enum Element: Sendable {
        case byte(UInt8)
        case any
        /// `[…]`: inclusive byte ranges, possibly negated.
        case set([ClosedRange<UInt8>], negated: Bool)

        func matches(_ c: UInt8) -> Bool {
            switch self {
            case .byte(let b): b == c
            case .any: true
            case .set(let ranges, let negated): ranges.contains { $0.contains(c) } != negated
            }
        }
    }

    /// The pattern between its `*`s; one segment means there is no `*` at all.
    let segments: [[Element]]
    /// glob(3): a name starting with `.` is matched only by a pattern starting with a literal `.`.
    let hidesDotNames: Bool

    /// OpenSSH's `match_pattern`: `*` and `?` only; every other byte, `[` and `\` included, is itself.
    public init(openSSH pattern: some StringProtocol) {
        var segments: [[Element]] = [[]]
        for c in pattern.utf8 {
            switch c {
            case UInt8(ascii: "*"): segments.append([])
            case UInt8(ascii: "?"): segments[segments.count - 1].append(.any)
            default: segments[segments.count - 1].append(.byte(c))
            }
        }
        self.segments = segments
        self.hidesDotNames = false
    }

    /// glob(3) and fnmatch(3) for one path component: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`, `\` escapes;
    /// an unclosed `[` is itself.
    public init(glob pattern: some StringProtocol) {
        let p = Array(pattern.utf8)
        var segments: [[Element]] = [[]]
        var i = 0
        while i < p.count {
            switch p[i] {
            case UInt8(ascii: "*"):
                segments.append([])
                i += 1
            case UInt8(ascii: "?"):
                segments[segments.count - 1].append(.any)
                i += 1
            case UInt8(ascii: "["):
                if let (set, next) = Self.bracket(p, i) {
                    segments[segments.count - 1].append(set)
                    i = next
                } else {
                    segments[segments.count - 1].append(.byte(p[i]))
                    i += 1
                }
            case UInt8(ascii: "\\") where i + 1 < p.count:
                segments[segments.count - 1].append(.byte(p[i + 1]))
                i += 2
            default:
                segments[segments.count - 1].append(.byte(p[i]))
                i += 1
            }
        }
        self.segments = segments
        if case .byte(UInt8(ascii: ".")) = segments[0].first {
            self.hidesDotNames = false
        } else {
            self.hidesDotNames = true
        }
    }

    /// `[…]` starting at `start`: the set and the index after `]`; nil when the bracket never closes.
    private static func bracket(_ p: [UInt8], _ start: Int) -> (Element, Int)? {
        var i = start + 1
        let negated = i < p.count && (p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^"))
        if negated { i += 1 }
        var ranges: [ClosedRange<UInt8>] = []
        var first = true
        while i < p.count, p[i] != UInt8(ascii: "]") || first {
            first = false
            var low = p[i]
            if low == UInt8(ascii: "\\"), i + 1 < p.count {
                i += 1
                low = p[i]
            }
            if i + 2 < p.count, p[i + 1] == UInt8(ascii: "-"), p[i + 2] != UInt8(ascii: "]") {
                let high = p[i + 2]
                if low <= high { ranges.append(low...high) }
                i += 3
            } else {
                ranges.append(low...low)
                i += 1
            }
        }
        guard i < p.count else { return nil }
        return (.set(ranges, negated: negated), i + 1)
    }

    public var hasWildcard: Bool {
        segments.count > 1 || segments[0].contains { if case .byte = $0 { false } else { true } }
    }

    public func matches(_ name: some StringProtocol) -> Bool {
        var name = String(name)
        return name.withUTF8 { matches(bytes: $0) }
    }

    func matches(bytes t: UnsafeBufferPointer<UInt8>) -> Bool {
        if hidesDotNames, t.first == UInt8(ascii: ".") { return false }
        guard let head = segments.first, let tail = segments.last else { return false }
        if segments.count == 1 { return t.count == head.count && Self.matches(head, t, at: 0) }
        guard t.count >= head.count + tail.count, Self.matches(head, t, at: 0),
            Self.matches(tail, t, at: t.count - tail.count)
        else { return false }
        var position = head.count
        let end = t.count - tail.count
        for segment in segments.dropFirst().dropLast() where !segment.isEmpty {
            guard let found = Self.leftmost(segment, t, from: position, end: end) else { return false }
            position = found + segment.count
        }
        return true
    }

    private static func matches(_ segment: [Element], _ t: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        for (offset, element) in segment.enumerated() where !element.matches(t[start + offset]) { return false }
        return true
    }

    private static func leftmost(_ segment: [Element], _ t: UnsafeBufferPointer<UInt8>, from: Int, end: Int) -> Int? {
        guard end - from >= segment.count else { return nil }
        for start in from...(end - segment.count) where matches(segment, t, at: start) { return start }
        return nil
    }
}

/// The pattern forms sshd_config uses (OpenSSH's match.c).
public enum SSHPattern {
    public enum ListMatch: Equatable, Sendable {
        case none, positive, negated
    }

    /// OpenSSH's `match_pattern`.
    public static func matches(_ pattern: some StringProtocol, _ name: some StringProtocol) -> Bool {
        WildcardPattern(openSSH: pattern).matches(name)
    }

    /// OpenSSH's `match_pattern_list`: comma-separated patterns, each possibly negated with `!`; a
    /// negated match wins over every positive one. A subpattern of 1023 bytes or more makes the
    /// whole list match nothing, as in OpenSSH (its buffer is 1024 bytes).
    public static func matchList(_ list: some StringProtocol, _ name: some StringProtocol) -> ListMatch {
        var positive = false
        for item in list.split(separator: ",", omittingEmptySubsequences: false) {
            let negated = item.first == "!"
            let pattern = negated ? item.dropFirst() : item[...]
            guard pattern.utf8.count < 1023 else { return .none }
            guard WildcardPattern(openSSH: pattern).matches(name) else { continue }
            if negated { return .negated }
            positive = true
        }
        return positive ? .positive : .none
    }
}

/// fnmatch(3)-style matching of one path component (the target's file names in `Include` and the
/// cloud-init and host-key globs).
public enum Glob {
    static func hasWildcard(_ text: some StringProtocol) -> Bool { WildcardPattern(glob: text).hasWildcard }

    public static func matches(_ pattern: some StringProtocol, _ text: some StringProtocol) -> Bool {
        WildcardPattern(glob: pattern).matches(text)
    }
}
