import Foundation
import Glibc

/// A throwaway directory tree for writer tests: a `root` (the target) beside an `outside` directory
/// that hostile symlinks aim at, so a test can check nothing outside the root changed.
final class TempTree {
    let base: String
    var root: String { base + "/root" }
    var outside: String { base + "/outside" }

    init() throws {
        var template = Array("/tmp/keyrescue-writer-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        base = String(cString: made)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: base) }

    /// Writes `text` at `path` beneath the root (parents created).
    func write(_ path: String, _ text: String, under dir: String? = nil) throws {
        let full = (dir ?? root) + path
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
    }

    func mkdir(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: root + path, withIntermediateDirectories: true)
    }

    /// A symlink at `path` beneath the root whose target is `destination`, verbatim.
    func symlink(_ path: String, to destination: String) throws {
        try FileManager.default.createSymbolicLink(atPath: root + path, withDestinationPath: destination)
    }

    /// Every file beneath `dir` with its content, to compare before and after.
    func snapshot(_ dir: String) -> [String: Data] {
        var result: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: dir)
        while let name = enumerator?.nextObject() as? String {
            result[name] = FileManager.default.contents(atPath: dir + "/" + name) ?? Data()
        }
        return result
    }
}
