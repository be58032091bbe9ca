import Glibc
import RescueAgent
import RescueModel

/// A throwaway target root in /tmp, built file by file, removed afterwards; and a sentinel
/// directory beside it standing for "the host", which the agent must never touch.
final class TempRoot {
    let base: String
    var root: String { base + "/root" }
    var outside: String { base + "/outside" }

    init() {
        var template = Array("/tmp/keyrescue-test.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ $0.baseAddress.flatMap(mkdtemp) }) else {
            fatalError("cannot make a temporary directory in /tmp")
        }
        base = String(cString: made)
        mkdir(root, 0o755)
        mkdir(outside, 0o755)
    }

    deinit { _ = system("rm -rf '\(base)'") }

    func dir(_ path: String, mode: mode_t = 0o755, owner: (UInt32, UInt32)? = nil) {
        var current = root
        for part in path.split(separator: "/") {
            current += "/\(part)"
            mkdir(current, mode)
        }
        if let owner { chown(current, owner.0, owner.1) }
    }

    func file(_ path: String, _ text: String, mode: mode_t = 0o644, owner: (UInt32, UInt32)? = nil) {
        let full = path.hasPrefix("/outside") ? base + path : root + path
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, mode)
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        if let owner { fchown(fd, owner.0, owner.1) }
        fchmod(fd, mode)
        close(fd)
    }

    /// Sets owner and mode exactly (mkdir and open are subject to the umask).
    func set(_ path: String, mode: mode_t, owner: (UInt32, UInt32)) {
        chown(root + path, owner.0, owner.1)
        chmod(root + path, mode)
    }

    func symlink(_ path: String, to destination: String) { _ = Glibc.symlink(destination, root + path) }

    func read(_ path: String) -> String? {
        let fd = open(path.hasPrefix("/outside") ? base + path : root + path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = Glibc.read(fd, &buffer, buffer.count)
        return String(decoding: buffer[0..<max(0, n)], as: UTF8.self)
    }

    func stat(_ path: String) -> stat? {
        var st = Glibc.stat()
        return lstat(root + path, &st) == 0 ? st : nil
    }

    /// Every file name under `outside`, to prove nothing was written there.
    func outsideListing() -> [String] {
        guard let dir = opendir(outside) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// A minimal Debian-like root: passwd, group, os-release, the user's home.
    static func debian() -> TempRoot {
        let t = TempRoot()
        t.dir("/etc/ssh")
        t.file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nadmin:x:1000:1000::/home/admin:/bin/bash\n")
        t.file("/etc/group", "root:x:0:\nadmin:x:1000:\n")
        t.file("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
        t.dir("/home/admin", owner: (1000, 1000))
        return t
    }
}

let isRoot = getuid() == 0

/// A fixture key that must parse (a failure is a broken test, not a result).
func fixtureKey(_ line: String) -> PublicKey {
    do { return try PublicKey(parsing: line) } catch { fatalError("fixture key does not parse: \(error)") }
}
