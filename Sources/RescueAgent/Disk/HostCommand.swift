import Glibc
import RescueModel
import SystemPackage

/// Runs one of the host's own tools (lvm) by absolute path, with a fixed PATH and environment:
/// never anything from the target disk. posix_spawn, stdout and stderr captured through pipes.
enum HostCommand {
    struct Result {
        var status: Int32
        var output: String
        var errorText: String
    }

    struct Failed: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var output: String
        var description: String { "\(command) exited with \(status): \(output)" }
    }

    static let environment = [
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "LVM_SUPPRESS_FD_WARNINGS=1",
    ]

    /// The first of `candidates` that exists and is executable (host paths only).
    static func find(_ name: String) -> String? {
        ["/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"].map { $0 + name }.first { access($0, X_OK) == 0 }
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> Result {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { throw DiskError.system("pipe", errno) }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw DiskError.system("pipe", errno)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        guard spawned == 0 else { throw DiskError.system("running \(executable)", spawned) }

        let (output, errorText) = drain(outPipe[0], errPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: exitCode, output: output, errorText: errorText)
    }

    /// Reads both pipes to their end without letting either fill up and block the child.
    private static func drain(_ outFD: Int32, _ errFD: Int32) -> (String, String) {
        var collected: [[UInt8]] = [[], []]
        var fds = [
            pollfd(fd: outFD, events: Int16(POLLIN), revents: 0), pollfd(fd: errFD, events: Int16(POLLIN), revents: 0),
        ]
        var open = 2
        var buffer = [UInt8](repeating: 0, count: 65536)
        while open > 0 {
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = read(fds[i].fd, &buffer, buffer.count)
                if n > 0 {
                    collected[i].append(contentsOf: buffer[0..<n])
                } else if n == 0 || errno != EINTR {
                    fds[i].fd = -1
                    open -= 1
                }
            }
        }
        return (String(decoding: collected[0], as: UTF8.self), String(decoding: collected[1], as: UTF8.self))
    }
}

/// The host's own files: small reads of its pseudo-files (/proc, /sys, /dev), and the CLI's key,
/// job and report files. The one read-all and write-all are Syscalls'.
public enum HostFiles {
    /// The whole file; more than `limit` bytes is refused with `.fileTooLarge`.
    public static func read(_ path: String, limit: Int = 16 << 20) throws(Errno) -> [UInt8] {
        let fd = FileDescriptor(rawValue: try Syscalls.open(path, O_RDONLY))
        defer { Syscalls.close(fd) }
        return try Syscalls.readAll(fd, limit: limit)
    }

    static func readText(_ path: String) throws -> String { String(decoding: try read(path), as: UTF8.self) }

    /// Replaces the file's content (a new file gets `mode`) and syncs it: a short or failed write
    /// must not pass for a whole one.
    public static func write(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(Errno) {
        let fd = FileDescriptor(rawValue: try Syscalls.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: mode))
        defer { Syscalls.close(fd) }
        try Syscalls.writeAll(fd, bytes)
        try Syscalls.sync(fd)
    }

    /// Entry names of a directory, without `.` and `..`; nil when it cannot be opened.
    static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw DiskError.system("opendir \(path)", errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
