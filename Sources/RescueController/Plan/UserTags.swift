import AWSKit

/// `--tag KEY=VALUE` arguments → tags for everything the rescue creates.
public enum UserTags {
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// EC2 user guide, "Tag restrictions": keys up to 128 characters, values up to 256, the `aws:`
    /// prefix reserved, at most 50 tags a resource. `keyrescue:` is the tool's own (run, launch, …).
    public static func parse(_ arguments: [String]) throws -> [Tag] {
        var tags: [Tag] = []
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "=") else {
                throw Invalid(description: "--tag \(argument): write KEY=VALUE (VALUE may be empty)")
            }
            let key = String(argument[..<equals])
            let value = String(argument[argument.index(after: equals)...])
            guard !key.isEmpty, key.count <= 128, value.count <= 256 else {
                throw Invalid(description: "--tag \(argument): the key needs 1-128 characters, the value at most 256")
            }
            guard !key.lowercased().hasPrefix("aws:"), !key.hasPrefix("keyrescue:") else {
                throw Invalid(
                    description: "--tag \(argument): keys starting aws: are AWS's and keyrescue: are the tool's own")
            }
            guard key != "Name" else {
                throw Invalid(description: "--tag Name=…: keyrescue names what it creates (keyrescue-…) itself")
            }
            guard !tags.contains(where: { $0.key == key }) else {
                throw Invalid(description: "--tag \(key) given twice: a resource has one value per key")
            }
            tags.append(Tag(key, value))
        }
        // The rescue adds its own tags (run, Name, launch token) next to these.
        guard tags.count <= 45 else { throw Invalid(description: "at most 45 --tag options (EC2 allows 50 tags)") }
        return tags
    }
}
