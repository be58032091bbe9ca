import Foundation
import Glibc
import Subprocess

/// Proves the new key logs in: waits for the SSH port, then runs `ssh` with host key checking on
/// against the host keys the agent read from the disk (no trust on first use).
public struct LoginVerifier: Sendable {
    public var address: String
    public var user: String
    public var privateKey: String?
    public var hostKeys: [String]
    public var instanceID: String
    /// Extra ssh options, e.g. ["-J", "bastion"] or ["-o", "Port=2222"]; they also steer the port probe.
    public var sshOptions: [String]

    public init(
        address: String, user: String, privateKey: String?, hostKeys: [String], instanceID: String, sshOptions: [String]
    ) {
        self.address = address
        self.user = user
        self.privateKey = privateKey
        self.hostKeys = hostKeys
        self.instanceID = instanceID
        self.sshOptions = sshOptions
    }

    /// Where the port probe connects: the address, unless the ssh options say HostName/Port.
    public var probeEndpoint: (host: String, port: Int) {
        var host = address
        var port = 22
        var i = 0
        while i < sshOptions.count {
            let option = sshOptions[i]
            let value = i + 1 < sshOptions.count ? sshOptions[i + 1] : ""
            let setting = option == "-o" ? value : (option.hasPrefix("-o") ? String(option.dropFirst(2)) : "")
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2, parts[0].lowercased() == "hostname" { host = parts[1] }
            if parts.count == 2, parts[0].lowercased() == "port", let p = Int(parts[1]) { port = p }
            if option == "-p", let p = Int(value) { port = p }
            i += 1
        }
        return (host, port)
    }

    /// The alias under which the host keys are pinned, so HostName/Port options do not matter.
    public var hostKeyAlias: String { "keyrescue-\(instanceID)" }

    public func waitForPort(timeout: Double) async -> Bool {
        let (host, port) = probeEndpoint
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            if await Self.connects(host: host, port: port, within: .seconds(5)) { return true }
            try? await Task.sleep(for: .seconds(2))
        }
        return false
    }

    /// A TCP connect that never blocks its thread: the socket is non-blocking, and its progress is
    /// polled without waiting (`poll` with a zero timeout) between short sleeps of the task.
    static func connects(host: String, port: Int, within limit: Duration) async -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else { return false }
        defer { freeaddrinfo(result) }
        let fd = socket(
            info.pointee.ai_family,
            info.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&entry, 1, 0)
            if ready < 0 && errno != EINTR { return false }
            if ready > 0 {
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return false }
                return error == 0
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// The ssh command the user can run (printed in the summary).
    public func command(knownHosts: String?) -> [String] {
        var args = ["ssh"]
        if let privateKey { args += ["-i", privateKey] }
        if let knownHosts { args += ["-o", "UserKnownHostsFile=\(knownHosts)", "-o", "HostKeyAlias=\(hostKeyAlias)"] }
        return args + sshOptions + ["\(user)@\(address)"]
    }

    /// Pins the host keys read from the disk under `hostKeyAlias` (what the printed command uses).
    public func writeKnownHosts(_ path: String) throws {
        let lines = hostKeys.map { "\(hostKeyAlias) \($0)" }.joined(separator: "\n") + "\n"
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(lines.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    /// Logs in and runs `true`, retrying while sshd starts; returns ssh's last stderr on failure.
    public func login(knownHostsFile: String, timeout: Double) async -> (ok: Bool, detail: String) {
        do { try writeKnownHosts(knownHostsFile) } catch { return (false, "cannot write \(knownHostsFile): \(error)") }
        let args =
            Array(command(knownHosts: knownHostsFile).dropFirst().dropLast()) + [
                "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o",
                "LogLevel=ERROR",
                "\(user)@\(address)", "true",
            ]
        let deadline = ContinuousClock.now + .seconds(timeout)
        var detail = ""
        repeat {
            // swift-subprocess drains ssh's stderr while it waits, off the cooperative pool.
            do {
                let run = try await Subprocess.run(
                    .path("/usr/bin/ssh"), arguments: Arguments(args), input: .none, output: .discarded,
                    error: .string(limit: 65536))
                if case .exited(0) = run.terminationStatus { return (true, "") }
                detail = run.standardError
            } catch {
                return (false, "cannot run /usr/bin/ssh: \(error)")
            }
            if detail.contains("Host key verification failed") || detail.contains("REMOTE HOST IDENTIFICATION") {
                break
            }
            try? await Task.sleep(for: .seconds(3))
        } while ContinuousClock.now < deadline
        return (false, detail.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
