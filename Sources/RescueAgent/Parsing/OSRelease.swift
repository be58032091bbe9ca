import RescueModel

/// os-release(5): `KEY=value` lines, values optionally in double quotes (with `\"`, `\\`, `\$`, `` \` ``
/// escapes, as in shell) or single quotes (literal). Comments and malformed lines are ignored.
public enum OSRelease {
    public static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals])
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                continue
            }
            guard let value = unquote(line[line.index(after: equals)...]) else { continue }
            fields[key] = value
        }
        return fields
    }

    /// The distro as the report carries it; nil without an `ID` (os-release says default "linux").
    public static func distro(_ fields: [String: String]) -> RescueReport.Distro {
        RescueReport.Distro(
            id: fields["ID"].map { $0.lowercased() } ?? "linux", versionID: fields["VERSION_ID"],
            prettyName: fields["PRETTY_NAME"] ?? fields["NAME"])
    }

    static func unquote(_ raw: Substring) -> String? {
        var value = raw
        while let last = value.last, last == " " || last == "\t" || last == "\r" { value.removeLast() }
        guard let first = value.first, first == "\"" || first == "'" else {
            return value.contains(where: { $0 == "\"" || $0 == "'" || $0 == " " }) ? nil : String(value)
        }
        var out = ""
        var escaped = false
        var index = value.index(after: value.startIndex)
        while index < value.endIndex {
            let c = value[index]
            if escaped {
                if !"\"\\$`".contains(c) { out.append("\\") }
                out.append(c)
                escaped = false
            } else if c == "\\" && first == "\"" {
                escaped = true
            } else if c == first {
                return value.index(after: index) == value.endIndex ? out : nil
            } else {
                out.append(c)
            }
            index = value.index(after: index)
        }
        return nil  // unterminated quote
    }
}
