/// Read access to the target's root filesystem by absolute target path (`/etc/passwd` means the
/// target's). The agent implements it over the mounted disk with safe path resolution; tests use a
/// dictionary. Pure parsers only ever see the target through this.
public protocol TargetFiles {
    /// The file's bytes; nil when it does not exist. Throws when it exists but cannot be read safely
    /// (a symlink leaving the root, not a regular file, too large, an I/O error).
    func readFile(_ path: String) throws -> [UInt8]?
    /// Entry names in a directory (no `.`/`..`); nil when the directory does not exist.
    func listDirectory(_ path: String) throws -> [String]?
}

extension TargetFiles {
    /// The file as text (invalid UTF-8 repaired); nil when missing or unreadable.
    public func text(_ path: String) -> String? {
        guard let bytes = try? readFile(path) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Paths matching a glob whose `*`, `?` and `[…]` may appear in any component, sorted as glob(3) does.
    public func glob(_ pattern: String) -> [String] {
        var paths = [""]
        for component in pattern.split(separator: "/") {
            if !Glob.hasWildcard(component) {
                paths = paths.map { "\($0)/\(component)" }
                continue
            }
            paths = paths.flatMap { directory in
                let names = try? listDirectory(directory.isEmpty ? "/" : directory)
                return (names ?? []).filter { !$0.hasPrefix(".") && Glob.matches(component, $0) }.sorted()
                    .map { "\(directory)/\($0)" }
            }
        }
        return paths.filter { (try? readFile($0)) != nil }
    }
}

/// fnmatch(3)-style wildcards: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`; `\` escapes. No `/` handling
/// (callers match one path component, or user and host names).
public enum Glob {
    static func hasWildcard(_ text: some StringProtocol) -> Bool { text.contains { "*?[".contains($0) } }

    public static func matches(_ pattern: some StringProtocol, _ text: some StringProtocol) -> Bool {
        match(Array(pattern), 0, Array(text), 0)
    }

    private static func match(_ p: [Character], _ pi: Int, _ t: [Character], _ ti: Int) -> Bool {
        var pi = pi
        var ti = ti
        while pi < p.count {
            switch p[pi] {
            case "*":
                while pi < p.count, p[pi] == "*" { pi += 1 }
                if pi == p.count { return true }
                for start in ti...t.count where match(p, pi, t, start) { return true }
                return false
            case "?":
                guard ti < t.count else { return false }
            case "[":
                guard ti < t.count, let (matched, next) = bracket(p, pi, t[ti]) else {
                    guard ti < t.count, t[ti] == "[" else { return false }
                    break
                }
                guard matched else { return false }
                pi = next
                ti += 1
                continue
            case "\\" where pi + 1 < p.count:
                pi += 1
                guard ti < t.count, t[ti] == p[pi] else { return false }
            default:
                guard ti < t.count, t[ti] == p[pi] else { return false }
            }
            pi += 1
            ti += 1
        }
        return ti == t.count
    }

    /// Matches one character against `[…]` at `start`; nil when the bracket is not closed.
    private static func bracket(_ p: [Character], _ start: Int, _ c: Character) -> (Bool, Int)? {
        var i = start + 1
        let negate = i < p.count && (p[i] == "!" || p[i] == "^")
        if negate { i += 1 }
        var matched = false
        var first = true
        while i < p.count, p[i] != "]" || first {
            first = false
            if i + 2 < p.count, p[i + 1] == "-", p[i + 2] != "]" {
                if p[i] <= c && c <= p[i + 2] { matched = true }
                i += 3
            } else {
                if p[i] == c { matched = true }
                i += 1
            }
        }
        guard i < p.count else { return nil }
        return (matched != negate, i + 1)
    }
}
