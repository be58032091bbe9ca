@testable import RescueAgent

/// TargetFiles over a dictionary: path → content. Directories are implied by the paths; `links`
/// are symlinks to directories (listed as symlinks, resolved when a path goes through them);
/// `inodes` give paths the same identity (hard links); `reads` counts what was read.
final class FakeFiles: TargetFiles {
    var files: [String: String]
    var links: [String: String]
    var inodes: [String: UInt64]
    private(set) var reads: [String: Int] = [:]

    init(files: [String: String], links: [String: String] = [:], inodes: [String: UInt64] = [:]) {
        (self.files, self.links, self.inodes) = (files, links, inodes)
    }

    /// `path` with every symlinked directory in it replaced by its target (at most 40 times).
    func resolve(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {
            guard let (link, target) = links.first(where: { current == $0.key || current.hasPrefix($0.key + "/") })
            else { break }
            current = target + current.dropFirst(link.count)
        }
        return current
    }

    /// Delivers the content in chunks of `chunk` bytes, so lines split across chunks are exercised.
    var chunk = 7

    func stream(
        _ path: String, limit: Int, accept: (FileIdentity) -> Bool, consume: (ArraySlice<UInt8>) -> Void
    ) throws(TargetFileError) -> (identity: FileIdentity, skipped: Bool)? {
        let real = resolve(path)
        guard let text = files[real] else { return nil }
        let identity = FileIdentity(device: 1, inode: inodes[real] ?? UInt64(truncatingIfNeeded: real.hashValue))
        guard accept(identity) else { return (identity, true) }
        guard text.utf8.count <= limit else { throw TargetFileError(path, .tooLarge, "is larger than \(limit)") }
        reads[real, default: 0] += 1
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: chunk) {
            consume(bytes[start..<min(start + chunk, bytes.count)])
        }
        return (identity, false)
    }

    func entries(_ directory: String) throws(TargetFileError) -> [TargetDirectoryEntry]? {
        let real = resolve(directory)
        let prefix = real == "/" ? "/" : real + "/"
        var found: [String: TargetDirectoryEntry.Kind] = [:]
        for path in files.keys where path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count).split(separator: "/")
            found[String(rest[0])] = rest.count == 1 ? .file : .directory
        }
        for link in links.keys where link.hasPrefix(prefix) && !link.dropFirst(prefix.count).contains("/") {
            found[String(link.dropFirst(prefix.count))] = .symlink
        }
        return found.isEmpty ? nil : found.map { TargetDirectoryEntry($0.key, $0.value) }
    }
}
