import Foundation
import Glibc
import Synchronization

/// The local journal: one JSON file per run under `$XDG_STATE_HOME/keyrescue/runs` (default
/// `~/.local/state`), replaced atomically (temp file in `tmp/`, fsync, rename, fsync of the
/// directory) so a crash leaves the old or the new record, never half of one. A run is locked
/// with flock(2) on `locks/RUN.lock` while a process works on it.
public final class JournalStore: Sendable {
    public let directory: URL
    /// Open lock files by run id.
    private let locks = Mutex<[String: Int32]>([:])

    public init(directory: URL) {
        self.directory = directory
    }

    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            return URL(fileURLWithPath: state).appendingPathComponent("keyrescue")
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".local/state/keyrescue")
    }

    var runs: URL { directory.appendingPathComponent("runs") }

    public func path(of runID: String) -> URL { runs.appendingPathComponent("\(runID).json") }

    public func save(_ record: RunRecord) throws {
        for sub in ["runs", "tmp", "locks"] {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent(sub), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(record)
        let temp = directory.appendingPathComponent("tmp/\(record.runID).\(getpid()).json")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError.io("cannot write \(temp.path): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0 else { throw JournalError.io("cannot write \(temp.path)") }
        guard rename(temp.path, path(of: record.runID).path) == 0 else {
            throw JournalError.io("cannot replace \(path(of: record.runID).path): \(String(cString: strerror(errno)))")
        }
        // The rename is durable only once the directory is synced.
        let dir = open(runs.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0, fsync(dir) == 0 else {
            let reason = String(cString: strerror(errno))
            if dir >= 0 { close(dir) }
            throw JournalError.io("cannot sync \(runs.path): \(reason)")
        }
        close(dir)
    }

    public func load(_ runID: String) throws -> RunRecord? {
        guard let data = FileManager.default.contents(atPath: path(of: runID).path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let probe = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        if let version = probe?["version"] as? Int, version != RunRecord.currentVersion {
            throw JournalError.version(
                "\(path(of: runID).path) is journal version \(version); this keyrescue reads version \(RunRecord.currentVersion): use the keyrescue that wrote it"
            )
        }
        do { return try decoder.decode(RunRecord.self, from: data) } catch {
            throw JournalError.io("cannot read \(path(of: runID).path): \(error)")
        }
    }

    /// The runs this journal holds that this keyrescue can read, newest first.
    public func list() -> [RunRecord] {
        entries().compactMap { if case .run(let record) = $0 { record } else { nil } }
    }

    /// Every run file, readable or not: a journal that cannot be read (damaged, or written by a
    /// newer keyrescue) is listed with why, not left out.
    public func entries() -> [JournalEntry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? []
        let entries: [JournalEntry] = names.filter { $0.hasSuffix(".json") }.map { name in
            let runID = String(name.dropLast(5))
            do {
                guard let record = try load(runID) else {
                    return .unreadable(runID: runID, reason: "it disappeared while being read")
                }
                return .run(record)
            } catch {
                return .unreadable(runID: runID, reason: "\(error)")
            }
        }
        return entries.sorted { a, b in
            switch (a, b) {
            case (.run(let x), .run(let y)): x.createdAt > y.createdAt
            case (.run, .unreadable): true
            case (.unreadable, .run): false
            case (.unreadable(let x, _), .unreadable(let y, _)): x < y
            }
        }
    }

    /// Takes the run's lock or says who holds it; released by `unlock` or at exit.
    public func lock(_ runID: String) throws {
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("locks"), withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("locks/\(runID).lock").path
        let fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError.io("cannot open \(file)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = read(fd, &buffer, buffer.count)
            close(fd)
            let pid =
                count > 0
                ? String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            throw JournalError.locked(
                "another keyrescue is working on \(runID)\(pid.isEmpty ? "" : " (pid \(pid))"); wait for it or run `keyrescue status \(runID)`"
            )
        }
        // Who holds it, for the message above. The lock is the flock, not this text: a failed
        // write only leaves the pid out of another process's message.
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = write(fd, pid, pid.count)
        locks.withLock { $0[runID] = fd }
    }

    public func unlock(_ runID: String) {
        // LOCK_UN before close: a child forked at this moment (ssh, a test's helper) shares the
        // open file description until its exec closes it, and would hold the lock that long.
        if let fd = locks.withLock({ $0.removeValue(forKey: runID) }) {
            _ = flock(fd, LOCK_UN)
            close(fd)
        }
    }
}

/// One run file of the journal: its record, or why it cannot be read.
public enum JournalEntry: Sendable {
    case run(RunRecord)
    case unreadable(runID: String, reason: String)
}

public enum JournalError: Error, CustomStringConvertible {
    case io(String), version(String), locked(String)
    public var description: String {
        switch self {
        case .io(let m), .version(let m), .locked(let m): m
        }
    }
}
