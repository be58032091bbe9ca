import RescueModel

/// Read access to the target's root filesystem by absolute target path (`/etc/passwd` means the
/// target's). The agent implements it over the mounted disk with safe path resolution
/// (SafeRoot+TargetFiles.swift); tests use a dictionary. Pure parsers only see the target through this.
public protocol TargetFiles {
    /// Streams the regular file at `path` to `consume` in chunks, never more than `limit` bytes in
    /// all; nil when nothing is there. `accept` sees the file's identity before a byte is read:
    /// false skips the read (`skipped` in the answer). Throws when something is there that the agent
    /// can't use: not a regular file, larger than `limit`, a symlink loop, a read error.
    func stream(
        _ path: String, limit: Int, accept: (FileIdentity) -> Bool, consume: (ArraySlice<UInt8>) -> Void
    ) throws(TargetFileError) -> (identity: FileIdentity, skipped: Bool)?
    /// The directory's entries (no `.`/`..`) with their types as the directory itself records them
    /// (symlinks are not followed); nil when the directory does not exist.
    func entries(_ directory: String) throws(TargetFileError) -> [TargetDirectoryEntry]?
}

/// A file's device and inode: two paths with the same identity are one file.
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        (self.device, self.inode) = (device, inode)
    }
}

public struct TargetFileContent: Sendable {
    public var identity: FileIdentity
    public var bytes: [UInt8]
    /// `accept` said no: `bytes` is empty and nothing was read.
    public var skipped = false

    public init(identity: FileIdentity, bytes: [UInt8], skipped: Bool = false) {
        (self.identity, self.bytes, self.skipped) = (identity, bytes, skipped)
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

public struct TargetDirectoryEntry: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case file, directory, symlink, other }
    public var name: String
    public var kind: Kind

    public init(_ name: String, _ kind: Kind) {
        (self.name, self.kind) = (name, kind)
    }
}

/// Something at a target path the agent cannot use, and why, in words that say what is there.
public struct TargetFileError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// Not a regular file or directory where one must be, a symlink loop, a name too long.
        case notUsable
        /// Larger than the limit the agent reads of it.
        case tooLarge
        /// The filesystem failed to deliver it (EIO and friends).
        case readError
    }

    public var path: String
    public var kind: Kind
    /// Completes "PATH …": "is a FIFO where a regular file must be", "is 50.0 MiB, more than …".
    public var problem: String

    public init(_ path: String, _ kind: Kind, _ problem: String) {
        (self.path, self.kind, self.problem) = (path, kind, problem)
    }

    public var description: String { "\(path) on the target \(problem)" }

    /// The report's failure for a file the rescue cannot do without; `why` says what it is needed for.
    public func refusal(_ why: String, hint: String) -> RescueReport.Failure {
        let code: RescueErrorCode =
            switch kind {
            case .notUsable: .unsafePath
            case .tooLarge: .unsupported
            case .readError: .corruptFilesystem
            }
        return RescueReport.Failure(code, "\(description); \(why)", hint: hint)
    }
}

extension TargetFiles {
    /// The whole file, or nil when nothing is there; `accept` as for `stream`.
    public func read(
        _ path: String, limit: Int, accept: (FileIdentity) -> Bool = { _ in true }
    ) throws(TargetFileError) -> TargetFileContent? {
        var bytes: [UInt8] = []
        guard let found = try stream(path, limit: limit, accept: accept, consume: { bytes += $0 }) else { return nil }
        return TargetFileContent(identity: found.identity, bytes: bytes, skipped: found.skipped)
    }

    /// The file as text (invalid UTF-8 repaired); nil when nothing is there.
    public func text(_ path: String, limit: Int) throws(TargetFileError) -> String? {
        try read(path, limit: limit)?.text
    }

    /// The file as text, nil when nothing is there; a file the agent can't use is the refusal,
    /// naming it, what is there, and `because` (what the file decides).
    public func textOrRefusal(
        _ path: String, limit: Int = ReadLimits.smallFile, because: String
    ) throws(RescueReport.Failure) -> String? {
        do { return try text(path, limit: limit) } catch {
            throw error.refusal(because, hint: TargetInspection.fixByHand)
        }
    }

    /// The file line by line as it is read, never held whole; false when nothing is there.
    @discardableResult
    public func lines(
        _ path: String, limit: Int, accept: (FileIdentity) -> Bool = { _ in true }, _ body: (String) -> Void
    ) throws(TargetFileError) -> Bool {
        var splitter = LineSplitter()
        guard let found = try stream(path, limit: limit, accept: accept, consume: { splitter.feed($0, body) }) else {
            return false
        }
        if !found.skipped { splitter.finish(body) }
        return true
    }
}

/// How much the agent reads of each file of the target, and of a whole `Include` or `cloud.cfg.d`
/// tree. Every limit is a refusal naming the file, never a silent skip (docs/AGENT.md, "Limits").
public enum ReadLimits {
    static let mebibyte = 1 << 20
    /// passwd and group: a real system with 200,000 accounts has about 12 MiB.
    public static let accountFile = 64 * mebibyte
    /// Each sshd_config file (the main one and every `Include`d one)…
    public static let sshdConfigFile = 64 * mebibyte
    /// …all of them together…
    public static let sshdConfigTotal = 128 * mebibyte
    /// …and how many files that may be (sshd itself stops at 16 levels of nesting, as we do).
    public static let sshdConfigFiles = 4096
    public static let sshdIncludeDepth = 16
    /// Each cloud-init file, all of them together, and how many `cloud.cfg.d/*.cfg` files.
    public static let cloudInitFile = 4 * mebibyte
    public static let cloudInitTotal = 16 * mebibyte
    public static let cloudInitFiles = 1024
    /// os-release, selinux/config, fstab, host public keys: a few lines each.
    public static let smallFile = 1 * mebibyte
    /// The SELinux policy's file_contexts.homedirs.
    public static let policyFile = 16 * mebibyte
    /// dpkg's status database and the sshd binary, searched for OpenSSH's version.
    public static let packageDatabase = 128 * mebibyte
    public static let sshdBinary = 32 * mebibyte
    /// Paths a glob may visit (directories descended plus files matched), per pattern.
    public static let globPaths = 65536
    /// Entries of one directory the agent lists (cloud.cfg.d, sshd_config.d, a globbed directory).
    public static let directoryEntries = 65536

    /// "4 MiB", "50.3 MiB" for messages.
    public static func size(_ bytes: Int) -> String {
        if bytes % mebibyte == 0 { return "\(bytes / mebibyte) MiB" }
        let tenths = (bytes * 10 + mebibyte / 2) / mebibyte
        return "\(tenths / 10).\(tenths % 10) MiB"
    }
}
