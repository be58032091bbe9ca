import Foundation

/// What `keyrescue diagnose` prints: every check as a line, the routes, and the verdict.
public struct DiagnoseReport: Sendable, Codable, Equatable {
    public var instanceID: String
    public var state: String
    public var checks: [String]
    public var routes: RouteReport
    public var chosen: RescueRoute?
    public var verdict: DiagnoseVerdict

    public init(instanceID: String, facts: DiagnoseFacts) {
        self.instanceID = instanceID
        state = facts.stateName
        routes = facts.routes
        chosen = facts.routes.chosen
        verdict = DiagnoseJudgement.verdict(facts)
        checks = Self.checks(facts)
    }

    static func checks(_ facts: DiagnoseFacts) -> [String] {
        var lines = ["state: \(facts.stateName)"]
        if facts.instanceStatus != nil || facts.systemStatus != nil {
            lines.append("status checks: instance \(facts.instanceStatus ?? "?"), system \(facts.systemStatus ?? "?")")
        }
        switch facts.keyMatch {
        case .matches(let path): lines.append("key pair \(facts.keyName ?? "?"): matches \(path)")
        case .noMatch(let n): lines.append("key pair \(facts.keyName ?? "?"): matches none of \(n) ~/.ssh/*.pub")
        case .cannotTell(let why): lines.append("key pair \(facts.keyName ?? "none"): cannot tell: \(why)")
        }
        switch DiagnoseJudgement.sshPort(facts) {
        case .open(let why), .closed(let why): lines.append("port 22: \(why)")
        case .cannotTell(let why): lines.append("port 22: cannot tell: \(why)")
        }
        if facts.aclEntries == nil {
            lines.append("network ACL: could not be read")
        } else {
            lines.append("network ACL: \(DiagnoseJudgement.aclBlock(facts) ?? "allows port 22")")
        }
        if let route = facts.routeToInternet {
            lines.append(
                "route: \(route ? "0.0.0.0/0 to an internet gateway" : "no default route to an internet gateway")")
        }
        let address = facts.publicAddress.map { "\($0)\(facts.elasticIP ? " (Elastic IP)" : "")" } ?? "none"
        lines.append("public address: \(address)")
        for line in facts.consoleErrors { lines.append("console: \(line)") }
        return lines
    }

    public var human: String {
        (checks + ["routes:"] + routes.lines.map { "  \($0)" } + ["verdict: \(verdict.text)"]).joined(separator: "\n")
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
