/// The YAML subset cloud-init configs use for users: block mappings and sequences (a sequence may sit
/// at its key's indentation), flow `[…]` and `{…}`, quoted and plain scalars, comments, `---`.
/// Block scalars (`|`, `>`) are kept as text; anchors and tags are dropped. Anything it cannot read
/// becomes a scalar rather than an error (callers look up only a few keys), except nesting deeper
/// than `maxDepth`. Linear in the text: no recursion per bracket, no copy per list item.
/// Not `indirect`: the arrays already hold children on the heap, and a scalar stays inline instead of
/// costing a box of its own (a 4 MiB list of short items is a million scalars).
public enum YAMLNode: Equatable, Sendable {
    case scalar(String)
    case map([(String, YAMLNode)])
    case seq([YAMLNode])

    public static func == (a: YAMLNode, b: YAMLNode) -> Bool {
        switch (a, b) {
        case (.scalar(let x), .scalar(let y)): return x == y
        case (.seq(let x), .seq(let y)): return x == y
        case (.map(let x), .map(let y)): return x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        default: return false
        }
    }

    /// The last value of `key` in a mapping (YAML forbids duplicates; the last one is what PyYAML keeps).
    public subscript(key: String) -> YAMLNode? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.last { $0.0 == key }?.1
    }

    public var string: String? {
        guard case .scalar(let s) = self else { return nil }
        return s
    }

    public var items: [YAMLNode]? {
        guard case .seq(let items) = self else { return nil }
        return items
    }
}

/// Why a cloud-init file was not read as YAML.
public struct YAMLError: Error, Equatable, CustomStringConvertible {
    public var description: String

    static func tooDeep(line: Int) -> YAMLError {
        YAMLError(
            description: "nests more than \(MiniYAML.maxDepth) levels deep (line \(line)), more than the agent reads")
    }
}

public enum MiniYAML {
    /// Real cloud-init configs nest a handful of levels; anything deeper is refused, not recursed into.
    public static let maxDepth = 64

    public static func parse(_ text: String) throws(YAMLError) -> YAMLNode {
        var lines: [Line] = []
        for (offset, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let indent = raw.prefix { $0 == " " }.count
            let content = stripComment(raw.dropFirst(indent))
            if content.isEmpty || content == "---" || content == "..." || content.hasPrefix("%") { continue }
            lines.append(Line(indent: indent, text: content, number: offset + 1))
        }
        var parser = BlockParser(lines: lines)
        return try parser.block(minIndent: 0, depth: 0) ?? .map([])
    }

    struct Line {
        var indent: Int
        var text: Substring
        var number: Int
    }

    static func stripComment(_ text: Substring) -> Substring {
        var quote: Character?
        var previous: Character = " "
        for index in text.indices {
            let c = text[index]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                if previous == " " || previous == "[" || previous == "," || previous == ":" || previous == "{" {
                    quote = c
                }
            } else if c == "#", previous == " " || previous == "\t" {
                return trimEnd(text[..<index])
            }
            previous = c
        }
        return trimEnd(text)
    }

    static func trimEnd(_ text: Substring) -> Substring {
        var t = text
        while let last = t.last, last == " " || last == "\t" || last == "\r" { t.removeLast() }
        return t
    }

    /// `key: value` split at the first `: ` (or a final `:`) outside quotes and brackets.
    static func splitKey(_ text: Substring) -> (key: String, value: Substring)? {
        var quote: Character?
        var depth = 0
        for index in text.indices {
            let c = text[index]
            if let q = quote {
                if c == q { quote = nil }
                continue
            }
            switch c {
            case "\"", "'": quote = c
            case "[", "{": depth += 1
            case "]", "}": depth -= 1
            case ":" where depth == 0:
                let after = text.index(after: index)
                if after == text.endIndex || text[after] == " " || text[after] == "\t" {
                    let key = scalarText(text[..<index])
                    return (key, text[after...].drop { $0 == " " || $0 == "\t" })
                }
            default: break
            }
        }
        return nil
    }

    /// A plain or quoted scalar's value, tags and anchors removed.
    static func scalarText(_ raw: Substring) -> String {
        var text = raw.drop { $0 == " " }
        while text.first == "&" || text.first == "!" {
            text = text.drop { $0 != " " }.drop { $0 == " " }
        }
        text = trimEnd(text)
        if text.count >= 2, let first = text.first, first == "\"" || first == "'", text.last == first {
            let inner = text.dropFirst().dropLast()
            return String(first == "'" ? inner.replacing("''", with: "'") : inner.replacing("\\\"", with: "\""))
        }
        return String(text)
    }
}
