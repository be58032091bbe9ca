import Foundation
import Glibc

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

    public init(address: String, user: String, privateKey: String?, hostKeys: [String], instanceID: String, sshOptions: [String]) {
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
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if Self.connects(host: host, port: port) { return true }
            try? await Task.sleep(nanoseconds: 2_000_000_000)
        }
        return false
    }

    static func connects(host: String, port: Int) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else { return false }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0
    }

    /// The ssh command the user can run (printed in the summary).
    public func command(knownHosts: String?) -> [String] {
        var args = ["ssh"]
        if let privateKey { args += ["-i", privateKey] }
        if let knownHosts { args += ["-o", "UserKnownHostsFile=\(knownHosts)", "-o", "HostKeyAlias=\(hostKeyAlias)"] }
        return args + sshOptions + ["\(user)@\(address)"]
    }

    /// Pins the host keys read from the disk under `hostKeyAlias` (what the printed command uses).
    public func writeKnownHosts(_ path: String) {
        let lines = hostKeys.map { "\(hostKeyAlias) \($0)" }.joined(separator: "\n") + "\n"
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: path, contents: Data(lines.utf8), attributes: [.posixPermissions: 0o600])
    }

    /// Logs in and runs `true`, retrying while sshd starts; returns ssh's last stderr on failure.
    public func login(knownHostsFile: String, timeout: Double) async -> (ok: Bool, detail: String) {
        writeKnownHosts(knownHostsFile)
        let args = Array(command(knownHosts: knownHostsFile).dropFirst().dropLast()) + [
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
            "\(user)@\(address)", "true",
        ]
        let deadline = Date().addingTimeInterval(timeout)
        var detail = ""
        repeat {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh")
            process.arguments = args
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            do { try process.run() } catch { return (false, "cannot run ssh: \(error)") }
            process.waitUntilExit()
            detail = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            if process.terminationStatus == 0 { return (true, "") }
            if detail.contains("Host key verification failed") || detail.contains("REMOTE HOST IDENTIFICATION") { break }
            try? await Task.sleep(nanoseconds: 3_000_000_000)
        } while Date() < deadline
        return (false, detail.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
