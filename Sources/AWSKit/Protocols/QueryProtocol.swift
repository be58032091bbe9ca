import Foundation

/// Parameters of an AWS query-protocol call (EC2, STS, IAM): ordered name/value pairs with the
/// protocol's flattening of lists (`InstanceId.1`) and structures (`Filter.1.Name`).
public struct QueryParameters: Sendable, Equatable {
    public private(set) var pairs: [(String, String)] = []

    public init() {}

    public static func == (a: QueryParameters, b: QueryParameters) -> Bool {
        a.pairs.elementsEqual(b.pairs) { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    public mutating func set(_ name: String, _ value: String?) {
        if let value { pairs.append((name, value)) }
    }

    public mutating func set(_ name: String, _ value: Int?) { set(name, value.map(String.init)) }

    public mutating func set(_ name: String, _ value: Bool?) { set(name, value.map { $0 ? "true" : "false" }) }

    /// `name.1=a&name.2=b` (EC2 and query protocols number lists from 1).
    public mutating func list(_ name: String, _ values: [String]) {
        for (index, value) in values.enumerated() { set("\(name).\(index + 1)", value) }
    }

    /// A list of structures: the closure fills one entry under its `prefix` (`Filter.2`).
    public mutating func structures<T>(
        _ name: String, _ values: [T], _ fill: (inout QueryParameters, String, T) -> Void
    ) {
        for (index, value) in values.enumerated() { fill(&self, "\(name).\(index + 1)", value) }
    }

    /// EC2 filters: `Filter.N.Name`, `Filter.N.Value.M`.
    public mutating func filters(_ filters: [EC2Filter]) {
        structures("Filter", filters) { params, prefix, filter in
            params.set("\(prefix).Name", filter.name)
            params.list("\(prefix).Value", filter.values)
        }
    }

    /// `application/x-www-form-urlencoded`: RFC 3986 unreserved characters kept, a space as `+`,
    /// everything else percent-encoded; byte for byte what botocore sends. AWS hashes the body as
    /// sent and accepts `%20` too, but moto re-encodes the parsed form this way before it checks a
    /// signature, so any other spelling of a space fails there (found with a Description).
    public func formEncoded(action: String, version: String) -> Data {
        let all = [("Action", action), ("Version", version)] + pairs
        return Data(all.map { "\(Self.formEncode($0.0))=\(Self.formEncode($0.1))" }.joined(separator: "&").utf8)
    }

    static func formEncode(_ text: String) -> String {
        encode(text).replacingOccurrences(of: "%20", with: "+")
    }

    static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}

/// An EC2 `Filter`: a name (`instance-state-name`, `tag:Name`, `attachment.instance-id`) and values.
public struct EC2Filter: Sendable, Equatable {
    public var name: String
    public var values: [String]
    public init(_ name: String, _ values: [String]) {
        self.name = name
        self.values = values
    }
}

/// A tag on any EC2 resource.
public struct Tag: Sendable, Equatable, Hashable, Codable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }

    /// `<tagSet><item><key>…</key><value>…</value></item></tagSet>`.
    static func parse(set node: XMLElement, _ name: String = "tagSet") -> [Tag] {
        node.items(name).map { Tag($0.string("key") ?? "", $0.string("value") ?? "") }
    }
}

extension Array where Element == Tag {
    /// The value of a tag, if present.
    public subscript(key key: String) -> String? { first { $0.key == key }?.value }
}
