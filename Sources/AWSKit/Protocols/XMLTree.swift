import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A parsed XML element: name (namespace prefix dropped), text, children. AWS answers are small,
/// so a tree and a few lookups beat a streaming decoder for clarity.
public struct XMLElement: Sendable, Equatable {
    public var name: String
    public var text: String
    public var children: [XMLElement]

    /// First child named `name`.
    public subscript(_ name: String) -> XMLElement? { children.first { $0.name == name } }

    /// Text of the child at a path (`node.string("instanceState", "name")`), trimmed; nil when absent.
    public func string(_ path: String...) -> String? {
        descend(path)?.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func int(_ path: String...) -> Int? {
        descend(path).flatMap { Int($0.text.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    public func bool(_ path: String...) -> Bool? {
        descend(path).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() == "true" }
    }

    /// EC2's lists: `<fooSet><item>…</item></fooSet>` → the items.
    public func items(_ path: String...) -> [XMLElement] { descend(path)?.children.filter { $0.name == "item" } ?? [] }

    /// Children named `name` (S3 and query lists are repeated elements: `<member>`, `<Rule>`).
    public func all(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }

    /// The first element named `name` anywhere below (depth first), self included.
    public func find(_ name: String) -> XMLElement? {
        if self.name == name { return self }
        for child in children { if let found = child.find(name) { return found } }
        return nil
    }

    func descend(_ path: [String]) -> XMLElement? {
        var node = self
        for name in path {
            guard let next = node[name] else { return nil }
            node = next
        }
        return node
    }

    /// Parses a document; nil when it is not XML.
    public static func parse(_ data: Data) -> XMLElement? {
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else { return nil }
        return root
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XMLElement] = []
    var root: XMLElement?

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        let local = name.split(separator: ":").last.map(String.init) ?? name
        stack.append(XMLElement(name: local, text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        guard let done = stack.popLast() else { return }
        if stack.isEmpty { root = done } else { stack[stack.count - 1].children.append(done) }
    }
}

/// Builds small XML request bodies (S3's configuration documents), escaping text.
enum XMLWriter {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func element(_ name: String, _ content: String) -> String { "<\(name)>\(content)</\(name)>" }
    static func text(_ name: String, _ value: String) -> String { element(name, escape(value)) }
}
