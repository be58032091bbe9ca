import CLinux
import Glibc
import SystemPackage

/// SafeRoot as TargetFiles: every path resolved beneath the root (Syscalls.openInRoot), every read
/// bounded. A file is first looked at without being opened for reading (O_PATH), so a FIFO never
/// blocks and a device node is never opened; then opened, checked to be the same regular file, and
/// read in chunks up to its limit.
extension SafeRoot {
    static let chunkSize = 1 << 16

    public func stream(
        _ path: String, limit: Int, accept: (FileIdentity) -> Bool, consume: (ArraySlice<UInt8>) -> Void
    ) throws(TargetFileError) -> (identity: FileIdentity, skipped: Bool)? {
        guard let first = try statInRoot(path) else { return nil }
        if let trouble = PathTrouble.mismatch(path, mode: first.st_mode, expected: .regularFile) {
            throw TargetFileError(trouble.path, .notUsable, trouble.what)
        }
        let identity = FileIdentity(device: UInt64(first.st_dev), inode: UInt64(first.st_ino))
        guard accept(identity) else { return (identity, true) }
        guard Int(first.st_size) <= limit else { throw Self.tooLarge(path, Int(first.st_size), limit) }
        let file: Int32
        do { file = try Syscalls.openInRoot(fd, path, flags: O_RDONLY | O_NONBLOCK | O_NOCTTY) } catch {
            throw trouble(error.rawValue, path)
        }
        defer { Syscalls.close(file) }
        guard let st = try? Syscalls.status(FileDescriptor(rawValue: file)), st.st_dev == first.st_dev,
            st.st_ino == first.st_ino
        else {
            throw TargetFileError(path, .readError, "changed while the agent was reading it")
        }
        try readBounded(file, path, limit: limit, consume)
        return (identity, false)
    }

    public func entries(_ directory: String) throws(TargetFileError) -> [TargetDirectoryEntry]? {
        let dirfd: Int32
        do { dirfd = try Syscalls.openInRoot(fd, directory, flags: O_RDONLY | O_DIRECTORY) } catch {
            if error == .noSuchFileOrDirectory || error == .notDirectory { return nil }
            throw trouble(error.rawValue, directory, expected: .directory)
        }
        guard let dir = fdopendir(dirfd) else {
            let code = errno  // before close() can change it
            Syscalls.close(dirfd)
            throw TargetFileError(directory, .readError, "cannot be listed: \(SystemError.text(code))")
        }
        defer { closedir(dir) }
        var entries: [TargetDirectoryEntry] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            guard entries.count < ReadLimits.directoryEntries else {
                throw TargetFileError(
                    directory, .tooLarge,
                    "holds more than \(ReadLimits.directoryEntries) entries, the most the agent lists")
            }
            entries.append(TargetDirectoryEntry(name, Self.kind(entry.pointee.d_type, Glibc.dirfd(dir), name)))
        }
        return entries
    }

    /// The directory's own record of the type; when the filesystem does not keep one, fstatat
    /// without following.
    private static func kind(_ type: UInt8, _ dirfd: Int32, _ name: String) -> TargetDirectoryEntry.Kind {
        var type = type
        if type == UInt8(DT_UNKNOWN) {
            guard let st = try? Syscalls.statusAt(FileDescriptor(rawValue: dirfd), name) else { return .other }
            type = UInt8(truncatingIfNeeded: (st.st_mode & S_IFMT) >> 12)
        }
        switch Int32(type) {
        case Int32(DT_REG): return .file
        case Int32(DT_DIR): return .directory
        case Int32(DT_LNK): return .symlink
        default: return .other
        }
    }

    /// stat of the path beneath the root (a final symlink followed, inside the root), taken through
    /// an O_PATH handle that cannot block or touch a device; nil when nothing is there.
    private func statInRoot(_ path: String) throws(TargetFileError) -> stat? {
        let probe: Int32
        do { probe = try Syscalls.openInRoot(fd, path, flags: Int32(KR_O_PATH)) } catch {
            if error == .noSuchFileOrDirectory { return nil }
            throw trouble(error.rawValue, path)
        }
        defer { Syscalls.close(probe) }
        do { return try Syscalls.status(FileDescriptor(rawValue: probe)) } catch {
            throw TargetFileError(path, .readError, "cannot be examined: \(SystemError.text(error.rawValue))")
        }
    }

    private func readBounded(
        _ file: Int32, _ path: String, limit: Int, _ consume: (ArraySlice<UInt8>) -> Void
    ) throws(TargetFileError) {
        var total = 0
        var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        while true {
            let n: Int
            do {
                n = try Syscalls.retrying {
                    buffer.withUnsafeMutableBytes { Glibc.read(file, $0.baseAddress, $0.count) }
                }
            } catch {
                throw TargetFileError(path, .readError, "cannot be read: \(SystemError.text(error.rawValue))")
            }
            if n == 0 { return }
            total += n
            guard total <= limit else { throw Self.tooLarge(path, nil, limit) }
            consume(buffer[0..<n])
        }
    }

    private func trouble(_ err: Int32, _ path: String, expected: PathExpectation = .regularFile) -> TargetFileError {
        let trouble = PathTrouble.resolveFailed(err, root: fd, path: path, expected: expected, followLast: true)
        let kind: TargetFileError.Kind = err == EIO ? .readError : .notUsable
        return TargetFileError(trouble.path, kind, trouble.what)
    }

    private static func tooLarge(_ path: String, _ size: Int?, _ limit: Int) -> TargetFileError {
        let size = size.map { "is \(ReadLimits.size($0))" } ?? "grew past \(ReadLimits.size(limit)) while being read"
        return TargetFileError(
            path, .tooLarge, "\(size), more than the \(ReadLimits.size(limit)) the agent reads of it")
    }
}
