#if canImport(FoundationEssentials)
import FoundationEssentials  // Date only; RescueModel links it already (no size added)
#endif
import CLinux
import Glibc
import RescueModel

/// What to write where: paths are target paths (already expanded from `AuthorizedKeysFile`).
public struct KeyWriteRequest: Sendable {
    public var home: String
    public var uid: UInt32
    public var gid: UInt32
    /// `AuthorizedKeysFile` paths, expanded; the key is written to the first one.
    public var authorizedKeysFiles: [String]
    public var keys: [PublicKey]
    public var replace: Bool
    /// `security.selinux` value for `.ssh` and the file (e.g. `unconfined_u:object_r:ssh_home_t:s0`).
    public var selinuxLabel: String?
    public var dryRun: Bool
    public var runID: String
    public var date: Date

    public init(
        home: String, uid: UInt32, gid: UInt32, authorizedKeysFiles: [String], keys: [PublicKey],
        replace: Bool = false, selinuxLabel: String? = nil, dryRun: Bool = false, runID: String = "manual",
        date: Date = Date()
    ) {
        self.home = home
        self.uid = uid
        self.gid = gid
        self.authorizedKeysFiles = authorizedKeysFiles
        self.keys = keys
        self.replace = replace
        self.selinuxLabel = selinuxLabel
        self.dryRun = dryRun
        self.runID = runID
        self.date = date
    }
}

/// What the writer did (or, in a dry run, would do).
public struct KeyWriteResult: Equatable, Sendable {
    public var path: String
    public var backupPath: String?
    public var alreadyPresent: Bool
    /// True when the file was (or would be) rewritten.
    public var changed: Bool
    public var createdSSHDirectory: Bool
    /// Key lines `--replace` removed.
    public var removed: [String]
}

/// Writes keys into authorized_keys beneath a SafeRoot: refuses symlinked home, `.ssh` and file,
/// writes atomically (temp file, fchown, fchmod, fsync, backup link, rename, directory fsync), and
/// reads the result back through a fresh open before reporting success.
public struct KeyWriter {
    public let root: SafeRoot

    public init(root: SafeRoot) { self.root = root }

    public func write(_ request: KeyWriteRequest) throws(SafeRootError) -> KeyWriteResult {
        guard let path = request.authorizedKeysFiles.first else {
            throw SafeRootError(request.home, "no AuthorizedKeysFile path to write")
        }
        let (parent, name) = Self.split(path)
        guard !name.isEmpty, name != ".", name != ".." else { throw SafeRootError(path, "not a file name") }
        let directory = try openDirectory(parent, request: request)
        defer { Glibc.close(directory.fd) }

        // In a dry run a missing `.ssh` stands as its parent: there is no file yet.
        let existing = request.dryRun && directory.created
            ? nil : try Self.readExisting(directory.fd, name, path: path, limit: root.maxFileSize)
        let edit = AuthorizedKeys.edit(
            existing: existing, adding: request.keys, runID: request.runID, date: request.date,
            replace: request.replace)
        let backupName = existing != nil && edit.changed ? Self.backupName(name, request.date) : nil
        var result = KeyWriteResult(
            path: path, backupPath: backupName.map { "\(parent)/\($0)" }, alreadyPresent: edit.alreadyPresent,
            changed: edit.changed, createdSSHDirectory: directory.created, removed: edit.removed)
        if request.dryRun { return result }

        if let label = request.selinuxLabel, parent != request.home, parent.hasPrefix(request.home) {
            try AtomicFile.setLabel(directory.fd, label, path: parent)
        }
        if edit.changed {
            try AtomicFile.replace(
                in: directory.fd, name: name, content: edit.content, uid: request.uid, gid: request.gid,
                backupName: backupName, selinuxLabel: request.selinuxLabel, path: path)
        } else {
            try AtomicFile.fixOwnerAndMode(in: directory.fd, name: name, uid: request.uid, gid: request.gid, path: path)
        }
        try verify(path, request)
        result.changed = edit.changed
        return result
    }

    /// `/home/u/.ssh/authorized_keys` → (`/home/u/.ssh`, `authorized_keys`).
    static func split(_ path: String) -> (String, String) {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return ("/", trimmed) }
        let parent = String(trimmed[..<slash])
        return (parent.isEmpty ? "/" : parent, String(trimmed[trimmed.index(after: slash)...]))
    }

    static func backupName(_ name: String, _ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let stamp = UTCTimestamp.format(secondsSince1970: seconds).filter { $0.isNumber || $0 == "T" }
        return "\(name).keyrescue-\(stamp).bak"
    }

    /// Reads the current file through a no-follow open; nil when there is none.
    static func readExisting(_ directory: Int32, _ name: String, path: String, limit: Int) throws(SafeRootError)
        -> [UInt8]?
    {
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .fromErrno(path, "cannot open the existing authorized_keys")
        }
        defer { Glibc.close(fd) }
        return try SafeRoot.readRegularFile(fd, path: path, limit: limit)
    }

    /// Fresh open beneath the root: regular file, owner uid:gid, mode 0600, every key present.
    func verify(_ path: String, _ request: KeyWriteRequest) throws(SafeRootError) {
        let fd = try root.open(path, flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        defer { Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .fromErrno(path, "read-back: cannot stat") }
        guard info.st_uid == request.uid, info.st_gid == request.gid, info.st_mode & 0o7777 == 0o600 else {
            throw SafeRootError(
                path, "read-back: owner \(info.st_uid):\(info.st_gid) mode \(String(info.st_mode & 0o7777, radix: 8)), "
                    + "expected \(request.uid):\(request.gid) 600")
        }
        let content = try SafeRoot.readRegularFile(fd, path: path, limit: root.maxFileSize)
        let present = Set(AuthorizedKeysLineSplit.lines(content).compactMap { AuthorizedKeysLine.identity(of: $0) })
        for key in request.keys {
            guard let identity = AuthorizedKeysLine.identity(of: Array(key.line.utf8)), present.contains(identity)
            else {
                throw SafeRootError(path, "read-back: the key \(key.fingerprint) is not in the file")
            }
        }
    }
}

enum AuthorizedKeysLineSplit {
    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] { bytes.split(separator: 10) }
}
