import Foundation

/// Compresses the agent the way the bootstrap unpacks it (xz), and back.
public protocol AgentCodec: Sendable {
    var name: String { get }
    func compress(_ data: Data) throws -> Data
    func decompress(_ data: Data) throws -> Data
}

/// The `xz` program (xz-utils): `--x86` adds the branch filter for x86 code (4.0 MB instead of
/// 4.5 MB for the agent), which every xz decoder, Python's `lzma` included, understands.
public struct XZCommand: AgentCodec {
    public static let compressArguments = ["--x86", "--lzma2=preset=6", "-c"]
    public var name: String { "xz" }

    public init() {}

    public func compress(_ data: Data) throws -> Data { try run(Self.compressArguments, input: data) }
    public func decompress(_ data: Data) throws -> Data { try run(["-d", "-c"], input: data) }

    /// Runs xz on `input` through a temporary file (no pipe to feed while reading the other).
    func run(_ arguments: [String], input: Data) throws -> Data {
        guard let xz = Self.find() else {
            throw AgentDeliveryError(
                "xz is not installed here: install xz-utils, or run scripts/build-agent (it writes keyrescue-agent.xz)")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keyrescue-agent-\(UUID().uuidString)")
        try input.write(to: file, options: .atomic)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: xz)
        process.arguments = arguments + [file.path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw AgentDeliveryError(
                "xz \(arguments.joined(separator: " ")) failed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
        return data
    }

    static func find() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/xz" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
