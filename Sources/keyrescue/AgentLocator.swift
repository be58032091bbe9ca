import Foundation
import RescueController

/// Where the agent is: --agent, KEYRESCUE_AGENT, beside this executable, or where scripts/build-agent
/// puts it in a source checkout.
enum AgentLocator {
    static func find(_ given: String?) throws -> String {
        let env = ProcessInfo.processInfo.environment
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        var candidates = [given, env["KEYRESCUE_AGENT"]].compactMap { $0 }
        if candidates.isEmpty {
            candidates = [
                executable.appendingPathComponent("keyrescue-agent").path,
                executable.appendingPathComponent("../../agent/keyrescue-agent").standardized.path,
                FileManager.default.currentDirectoryPath + "/.build/agent/keyrescue-agent",
            ]
        }
        for path in candidates where FileManager.default.isReadableFile(atPath: path) {
            // The debug build beside `keyrescue` is dynamic: only a static agent runs on any host.
            if given == nil, env["KEYRESCUE_AGENT"] == nil, path.hasSuffix("debug/keyrescue-agent") { continue }
            return path
        }
        throw ControllerError.badInput(
            "no keyrescue-agent found (looked at \(candidates.joined(separator: ", ")))",
            next: "build it with scripts/build-agent, or pass --agent PATH")
    }
}
