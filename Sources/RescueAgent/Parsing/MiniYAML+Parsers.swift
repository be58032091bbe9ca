extension MiniYAML {
    /// Block structure, one node per indentation level. Work is linear in the lines: an item's
    /// `- key: value` line is rewritten in place (never copying the line array), and nesting deeper
    /// than `maxDepth` is an error rather than a deeper call stack.
    struct BlockParser {
        var lines: [Line]
        var position = 0

        /// The node starting at the current line, if that line is indented at least `minIndent`.
        mutating func block(minIndent: Int, depth: Int) throws(YAMLError) -> YAMLNode? {
            guard position < lines.count, lines[position].indent >= minIndent else { return nil }
            guard depth < MiniYAML.maxDepth else { throw YAMLError.tooDeep(line: lines[position].number) }
            let line = lines[position]
            if isSequenceItem(line.text) { return try sequence(indent: line.indent, depth: depth) }
            if splitKey(line.text) != nil { return try mapping(indent: line.indent, depth: depth) }
            position += 1
            return try value(line.text, indent: line.indent, depth: depth, number: line.number)
        }

        func isSequenceItem(_ text: Substring) -> Bool { text == "-" || text.hasPrefix("- ") }

        mutating func sequence(indent: Int, depth: Int) throws(YAMLError) -> YAMLNode {
            var items: [YAMLNode] = []
            while position < lines.count, lines[position].indent == indent, isSequenceItem(lines[position].text) {
                let line = lines[position]
                let rest = line.text.dropFirst().drop { $0 == " " }
                let itemIndent = indent + line.text.utf8.count - rest.utf8.count
                if rest.isEmpty {
                    position += 1
                    items.append(try block(minIndent: indent + 1, depth: depth + 1) ?? .scalar(""))
                } else if isSequenceItem(rest) || splitKey(rest) != nil {
                    // "- name: x" opens a mapping whose keys line up with "name": the item's line,
                    // consumed by that mapping, is read as if it started there.
                    lines[position] = Line(indent: itemIndent, text: rest, number: line.number)
                    items.append(try block(minIndent: itemIndent, depth: depth + 1) ?? .scalar(""))
                } else {
                    position += 1
                    items.append(try value(rest, indent: indent, depth: depth + 1, number: line.number))
                }
            }
            return .seq(items)
        }

        mutating func mapping(indent: Int, depth: Int) throws(YAMLError) -> YAMLNode {
            var pairs: [(String, YAMLNode)] = []
            while position < lines.count, lines[position].indent == indent, !isSequenceItem(lines[position].text),
                let (key, rest) = splitKey(lines[position].text)
            {
                let number = lines[position].number
                position += 1
                if rest.isEmpty {
                    let next = position < lines.count ? lines[position] : nil
                    if let next, next.indent > indent {
                        pairs.append((key, try block(minIndent: indent + 1, depth: depth + 1) ?? .scalar("")))
                    } else if let next, next.indent == indent, isSequenceItem(next.text) {
                        pairs.append((key, try sequence(indent: indent, depth: depth + 1)))
                    } else {
                        pairs.append((key, .scalar("")))
                    }
                } else {
                    pairs.append((key, try value(rest, indent: indent, depth: depth + 1, number: number)))
                }
            }
            return .map(pairs)
        }

        /// A value on the key's own line: flow collection, block scalar marker, or scalar.
        mutating func value(_ text: Substring, indent: Int, depth: Int, number: Int) throws(YAMLError) -> YAMLNode {
            if text.hasPrefix("|") || text.hasPrefix(">") {
                var body: [String] = []
                while position < lines.count, lines[position].indent > indent {
                    body.append(String(lines[position].text))
                    position += 1
                }
                return .scalar(body.joined(separator: "\n"))
            }
            if text.hasPrefix("[") || text.hasPrefix("{") {
                var flow = FlowParser(chars: Array(text), depth: depth, line: number)
                return try flow.node()
            }
            return .scalar(scalarText(text))
        }
    }

    /// `[a, "b", {name: c}]` and `{k: v, …}` on one line, with an explicit stack of open brackets
    /// instead of a call per bracket.
    struct FlowParser {
        let chars: [Character]
        /// Block levels above this flow value: they count against `maxDepth` too.
        let depth: Int
        let line: Int
        var index = 0

        /// One open `[` or `{`.
        struct Frame {
            var close: Character
            var items: [YAMLNode] = []
            var pairs: [(String, YAMLNode)] = []
            /// `key:` read inside this collection; the next node is its value.
            var pendingKey: String?

            var node: YAMLNode { close == "}" ? .map(pairs) : .seq(items) }
        }

        init(chars: [Character], depth: Int, line: Int) {
            (self.chars, self.depth, self.line) = (chars, depth, line)
        }

        mutating func skipSpaces() { while index < chars.count, chars[index] == " " { index += 1 } }

        mutating func node() throws(YAMLError) -> YAMLNode {
            var stack: [Frame] = []
            var result: YAMLNode?
            try start(&stack, &result)
            while !stack.isEmpty {
                skipSpaces()
                guard index < chars.count else {
                    // An unclosed bracket ends with the line.
                    try finish(stack.removeLast(), &stack, &result)
                    continue
                }
                let c = chars[index]
                if c == stack[stack.count - 1].close {
                    index += 1
                    try finish(stack.removeLast(), &stack, &result)
                } else if c == "," || c == "]" || c == "}" {
                    index += 1  // a separator, or a bracket closing nothing open: skipped
                } else {
                    try start(&stack, &result)
                }
            }
            return result ?? .scalar("")
        }

        /// Reads the node at `index`: a scalar is delivered at once, a bracket opens a frame.
        private mutating func start(_ stack: inout [Frame], _ result: inout YAMLNode?) throws(YAMLError) {
            skipSpaces()
            guard index < chars.count, chars[index] == "[" || chars[index] == "{" else {
                let text = index < chars.count ? scalar() : ""
                try deliver(.scalar(text), &stack, &result)
                return
            }
            guard depth + stack.count < MiniYAML.maxDepth else { throw YAMLError.tooDeep(line: line) }
            stack.append(Frame(close: chars[index] == "[" ? "]" : "}"))
            index += 1
        }

        private mutating func finish(_ frame: Frame, _ stack: inout [Frame], _ result: inout YAMLNode?)
            throws(YAMLError)
        {
            try deliver(frame.node, &stack, &result)
        }

        /// Hands a finished node to the collection that holds it (or returns it, at the top).
        private mutating func deliver(_ node: YAMLNode, _ stack: inout [Frame], _ result: inout YAMLNode?)
            throws(YAMLError)
        {
            guard !stack.isEmpty else {
                result = node
                return
            }
            let top = stack.count - 1
            if let key = stack[top].pendingKey {
                stack[top].pendingKey = nil
                if stack[top].close == "}" {
                    stack[top].pairs.append((key, node))
                } else {
                    stack[top].items.append(.map([(key, node)]))
                }
                return
            }
            skipSpaces()
            if index < chars.count, chars[index] == ":", case .scalar(let key) = node {
                index += 1
                stack[top].pendingKey = key
                try start(&stack, &result)
            } else if stack[top].close == "}", case .scalar(let key) = node {
                stack[top].pairs.append((key, .scalar("")))
            } else {
                stack[top].items.append(node)
            }
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
