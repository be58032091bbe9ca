import Foundation

/// A server process the tests start on 127.0.0.1 and a free port, found by reading the line
/// that announces the port from its output. Stopped (SIGTERM, then waited for) by `stop()` or
/// when the value goes away, so a failing test leaves nothing running.
public final class LocalProcessServer: @unchecked Sendable {
    public let port: Int
    public var endpoint: URL { URL(string: "http://127.0.0.1:\(port)") ?? URL(fileURLWithPath: "/") }
    private let process: Process
    private let logPath: String
    private let lock = NSLock()

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts `executable arguments…` with `environment` added, waits (≤ `timeout` s) for a line
    /// matching `portPattern` (one capture group: the port) on stdout/stderr.
    public init(
        executable: String, arguments: [String], environment: [String: String] = [:], portPattern: String,
        timeout: Double = 30
    ) throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent(
            "keyrescue-server-\(UUID().uuidString).log"
        ).path
        FileManager.default.createFile(atPath: log, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: log) else {
            throw StartError(description: "cannot create \(log)")
        }
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        self.logPath = log

        let regex = try NSRegularExpression(pattern: portPattern)
        let deadline = Date().addingTimeInterval(timeout)
        var found: Int?
        while found == nil, Date() < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                let range = Range(match.range(at: 1), in: text)
            {
                found = Int(text[range])
            } else {
                usleep(50_000)
            }
        }
        guard let found else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: log)
            throw StartError(
                description: "\(executable) did not announce a port within \(Int(timeout)) s; its output:\n\(text)")
        }
        self.port = found
    }

    /// What the server printed so far.
    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: logPath)
    }

    deinit { stop() }
}

/// The scripted HTTP server of the retry tests (`scripted_server.py`, beside this file).
public enum ScriptedServer {
    public static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "scripted_server.py"
    ).path

    /// Steps: `throttle`, `503`, `reset`, `ok` (see the script); success after the last.
    public static func start(_ steps: [String]) throws -> LocalProcessServer {
        try LocalProcessServer(
            executable: "python3", arguments: [script, steps.joined(separator: ",")], portPattern: #"PORT (\d+)"#)
    }
}
