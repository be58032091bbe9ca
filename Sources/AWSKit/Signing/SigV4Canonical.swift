import Foundation

/// The pure pieces of SigV4's canonical request: URI encoding, path, query, headers and host.
/// Modelled on botocore (the reference signer our vectors come from).
enum SigV4Canonical {
    /// RFC 3986 unreserved characters: never percent-encoded.
    private static let unreserved: Set<UInt8> = Set(
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8))

    /// Percent-encodes every byte outside the unreserved set (and `extraSafe`), upper-case hex.
    static func uriEncode(_ bytes: some Sequence<UInt8>, extraSafe: Set<UInt8> = []) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        for b in bytes {
            if unreserved.contains(b) || extraSafe.contains(b) {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0x0f)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func uriEncode(_ string: String) -> String { uriEncode(string.utf8) }

    /// Decodes `%XX` escapes (malformed ones stay as they are); `plusIsSpace` for form-style queries.
    static func percentDecode(_ string: String, plusIsSpace: Bool = false) -> [UInt8] {
        let bytes = Array(string.utf8)
        var out = [UInt8]()
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "%"), i + 2 < bytes.count,
                let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2])
            {
                out.append(hi << 4 | lo)
                i += 3
                continue
            }
            out.append(plusIsSpace && b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
            i += 1
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The canonical URI. S3 signs the path exactly as sent (encoded once); every other
    /// service normalises it (dot segments, repeated slashes) and encodes it again.
    static func path(_ rawPath: String, service: String) -> String {
        if service == "s3" { return rawPath.isEmpty ? "/" : rawPath }
        return uriEncode(removeDotSegments(rawPath).utf8, extraSafe: [UInt8(ascii: "/")])
    }

    /// RFC 3986 §5.2.4, plus the removal of empty segments AWS wants.
    static func removeDotSegments(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var kept = [Substring]()
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." {
                _ = kept.popLast()
            } else {
                kept.append(segment)
            }
        }
        let first = path.hasPrefix("/") ? "/" : ""
        let last = path.hasSuffix("/") && !kept.isEmpty ? "/" : ""
        return first + kept.joined(separator: "/") + last
    }

    /// Query pairs of a raw (encoded) query string, each decoded.
    static func queryPairs(_ rawQuery: String?, plusIsSpace: Bool = false) -> [(name: [UInt8], value: [UInt8])] {
        guard let rawQuery, !rawQuery.isEmpty else { return [] }
        return rawQuery.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count > 1 ? String(parts[1]) : ""
            return (
                percentDecode(String(parts[0]), plusIsSpace: plusIsSpace),
                percentDecode(value, plusIsSpace: plusIsSpace)
            )
        }
    }

    /// The canonical query string: each name and value encoded, sorted by name then value.
    static func query(_ pairs: [(name: [UInt8], value: [UInt8])]) -> String {
        pairs.map { (uriEncode($0.name), uriEncode($0.value)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Host as signed: lower-case, with the port unless it is the scheme's default.
    static func host(of components: URLComponents) -> String {
        var host = (components.host ?? "").lowercased()
        if host.contains(":") && !host.hasPrefix("[") { host = "[\(host)]" }
        let defaultPort = components.scheme?.lowercased() == "http" ? 80 : 443
        if let port = components.port, port != defaultPort { host += ":\(port)" }
        return host
    }

    /// Header names a proxy or client may rewrite; signing them would break the signature.
    static let unsignedHeaders: Set<String> = ["expect", "user-agent", "x-amzn-trace-id", "authorization"]

    /// Canonical headers (lower-case names, trimmed values with inner whitespace collapsed,
    /// repeats joined by commas, sorted) and the signed-headers list.
    static func headers(_ headers: [HTTPHeader], host: String) -> (canonical: String, signed: String) {
        var byName = [String: [String]]()
        for header in headers {
            let name = header.name.lowercased()
            if unsignedHeaders.contains(name) { continue }
            byName[name, default: []].append(collapseWhitespace(header.value))
        }
        if byName["host"] == nil { byName["host"] = [host] }
        let names = byName.keys.sorted()
        let canonical = names.map { "\($0):\(byName[$0, default: []].joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    static func collapseWhitespace(_ value: String) -> String {
        value.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
