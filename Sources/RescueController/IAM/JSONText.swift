/// A JSON value with its object keys in a fixed order, rendered like Python's
/// `json.dumps(value, indent=2)`, so a generated document diffs cleanly against a checked-in one.
indirect enum JSONText {
    case string(String)
    case list([JSONText])
    case object([(String, JSONText)])

    /// IAM's shorthand: one action or resource is a string, more are a list.
    static func stringOrList(_ values: [String]) -> JSONText {
        values.count == 1 ? .string(values[0]) : .list(values.map(JSONText.string))
    }

    func render(indent: Int = 0) -> String {
        let inner = String(repeating: " ", count: indent + 2)
        let outer = String(repeating: " ", count: indent)
        switch self {
        case .string(let text): return Self.quote(text)
        case .list(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { inner + $0.render(indent: indent + 2) }.joined(separator: ",\n") + "\n\(outer)]"
        case .object(let fields):
            if fields.isEmpty { return "{}" }
            let lines = fields.map { inner + Self.quote($0.0) + ": " + $0.1.render(indent: indent + 2) }
            return "{\n" + lines.joined(separator: ",\n") + "\n\(outer)}"
        }
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case let c where c.value < 0x20 || c.value > 0x7e:
                out += c.value > 0xffff ? String(scalar) : "\\u" + String(c.value, radix: 16).leftPadded(to: 4)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
