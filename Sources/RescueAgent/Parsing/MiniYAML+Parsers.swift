extension MiniYAML {
    struct BlockParser {
        let lines: [Line]
        var position = 0

        /// The node starting at the current line, if that line is indented at least `minIndent`.
        mutating func block(minIndent: Int) -> YAMLNode? {
            guard position < lines.count, lines[position].indent >= minIndent else { return nil }
            let line = lines[position]
            if isSequenceItem(line.text) { return sequence(indent: line.indent) }
            if splitKey(line.text) != nil { return mapping(indent: line.indent) }
            position += 1
            return value(line.text, indent: line.indent)
        }

        func isSequenceItem(_ text: Substring) -> Bool { text == "-" || text.hasPrefix("- ") }

        mutating func sequence(indent: Int) -> YAMLNode {
            var items: [YAMLNode] = []
            while position < lines.count, lines[position].indent == indent, isSequenceItem(lines[position].text) {
                let rest = lines[position].text.dropFirst().drop { $0 == " " }
                let itemIndent = indent + (lines[position].text.count - rest.count)
                if rest.isEmpty {
                    position += 1
                    items.append(block(minIndent: indent + 1) ?? .scalar(""))
                } else if isSequenceItem(rest) || splitKey(rest) != nil {
                    // "- name: x" opens a mapping whose keys line up with "name".
                    var inner = lines
                    inner[position] = Line(indent: itemIndent, text: rest)
                    var nested = BlockParser(lines: inner, position: position)
                    items.append(nested.block(minIndent: itemIndent) ?? .scalar(""))
                    position = nested.position
                } else {
                    position += 1
                    items.append(value(rest, indent: indent))
                }
            }
            return .seq(items)
        }

        mutating func mapping(indent: Int) -> YAMLNode {
            var pairs: [(String, YAMLNode)] = []
            while position < lines.count, lines[position].indent == indent, !isSequenceItem(lines[position].text),
                let (key, rest) = splitKey(lines[position].text)
            {
                position += 1
                if rest.isEmpty {
                    let next = position < lines.count ? lines[position] : nil
                    if let next, next.indent > indent {
                        pairs.append((key, block(minIndent: indent + 1) ?? .scalar("")))
                    } else if let next, next.indent == indent, isSequenceItem(next.text) {
                        pairs.append((key, sequence(indent: indent)))
                    } else {
                        pairs.append((key, .scalar("")))
                    }
                } else {
                    pairs.append((key, value(rest, indent: indent)))
                }
            }
            return .map(pairs)
        }

        /// A value on the key's own line: flow collection, block scalar marker, or scalar.
        mutating func value(_ text: Substring, indent: Int) -> YAMLNode {
            if text.hasPrefix("|") || text.hasPrefix(">") {
                var body: [String] = []
                while position < lines.count, lines[position].indent > indent {
                    body.append(String(lines[position].text))
                    position += 1
                }
                return .scalar(body.joined(separator: "\n"))
            }
            if text.hasPrefix("[") || text.hasPrefix("{") {
                var flow = FlowParser(chars: Array(text))
                return flow.node()
            }
            return .scalar(scalarText(text))
        }
    }

    /// `[a, "b", {name: c}]` and `{k: v, …}` on one line.
    struct FlowParser {
        let chars: [Character]
        var index = 0

        mutating func skipSpaces() { while index < chars.count, chars[index] == " " { index += 1 } }

        mutating func node() -> YAMLNode {
            skipSpaces()
            guard index < chars.count else { return .scalar("") }
            if chars[index] == "[" { return collection(close: "]") }
            if chars[index] == "{" { return collection(close: "}") }
            return .scalar(scalar())
        }

        mutating func collection(close: Character) -> YAMLNode {
            index += 1
            var items: [YAMLNode] = []
            var pairs: [(String, YAMLNode)] = []
            while true {
                skipSpaces()
                guard index < chars.count else { break }
                if chars[index] == close { index += 1; break }
                if chars[index] == "," { index += 1; continue }
                let item = node()
                skipSpaces()
                if index < chars.count, chars[index] == ":", case .scalar(let key) = item {
                    index += 1
                    let value = node()
                    if close == "}" { pairs.append((key, value)) } else { items.append(.map([(key, value)])) }
                } else if close == "}", case .scalar(let key) = item {
                    pairs.append((key, .scalar("")))
                } else {
                    items.append(item)
                }
            }
            return close == "}" ? .map(pairs) : .seq(items)
        }

        mutating func scalar() -> String {
            let start = index
            if chars[index] == "\"" || chars[index] == "'" {
                let quote = chars[index]
                index += 1
                while index < chars.count {
                    if chars[index] == quote {
                        // '' inside single quotes is an escaped quote.
                        guard quote == "'", index + 1 < chars.count, chars[index + 1] == "'" else { break }
                        index += 2
                    } else {
                        index += chars[index] == "\\" && quote == "\"" ? 2 : 1
                    }
                }
                index = min(index + 1, chars.count)
            } else {
                while index < chars.count, !",]}".contains(chars[index]),
                    !(chars[index] == ":" && (index + 1 == chars.count || chars[index + 1] == " "))
                {
                    index += 1
                }
            }
            return MiniYAML.scalarText(Substring(String(chars[start..<index])))
        }
    }
}
