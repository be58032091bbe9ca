/// Why ssh fails, judged from what `diagnose` read. Pure: every check is a line and the verdict
/// is the first cause that explains the failure (instance, then network, then key).
public struct DiagnoseVerdict: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case key, network, instance, unknown }
    public var kind: Kind
    public var text: String
    public init(kind: Kind, text: String) {
        self.kind = kind
        self.text = text
    }
}

/// Whether port 22 is open in the security groups for the source asked about.
public enum PortOpenness: Sendable, Equatable {
    case open(String)
    case closed(String)
    case cannotTell(String)
}

public enum DiagnoseJudgement {
    public static func verdict(_ facts: DiagnoseFacts) -> DiagnoseVerdict {
        if let why = unhealthy(facts) {
            return DiagnoseVerdict(kind: .instance, text: "the instance is not healthy: \(why)")
        }
        if let why = networkBlock(facts) {
            return DiagnoseVerdict(kind: .network, text: "probably the network: \(why)")
        }
        switch facts.keyMatch {
        case .noMatch(let checked):
            return DiagnoseVerdict(
                kind: .key,
                text:
                    "probably the key: none of the \(checked) public key(s) in ~/.ssh matches key pair \(facts.keyName ?? "(none)")"
            )
        case .cannotTell(let why): return DiagnoseVerdict(kind: .key, text: "probably the key (\(why))")
        case .matches(let path):
            return DiagnoseVerdict(
                kind: .unknown,
                text:
                    "port 22 looks reachable and \(path) matches the key pair: check the login user and that ssh uses that key"
            )
        }
    }

    static func unhealthy(_ facts: DiagnoseFacts) -> String? {
        if facts.stateName != "running" { return "it is \(facts.stateName)" }
        if facts.systemStatus == "impaired" {
            return "the system status check fails (AWS's side: stop and start moves it)"
        }
        if facts.instanceStatus == "impaired" { return "the instance status check fails" }
        if let line = facts.consoleErrors.last { return "the console shows \"\(line)\"" }
        return nil
    }

    static func networkBlock(_ facts: DiagnoseFacts) -> String? {
        if case .closed(let why) = sshPort(facts) { return why }
        if let why = aclBlock(facts) { return why }
        if facts.from == nil, facts.publicAddress == nil {
            return
                "the instance has no public IP or Elastic IP: reach it from inside its VPC, or use an SSM or Instance Connect route"
        }
        if facts.publicAddress != nil, facts.routeToInternet == false {
            return "its subnet's route table has no 0.0.0.0/0 route to an internet gateway"
        }
        return nil
    }

    /// The security groups' view of port 22 from `--from` (or from anywhere).
    public static func sshPort(_ facts: DiagnoseFacts) -> PortOpenness {
        let source = facts.from ?? "0.0.0.0/0"
        let rules = facts.ingress.filter(\.coversSSH)
        if rules.contains(where: { $0.cidrs.contains { CIDR.contains($0, source) } }) {
            return .open("the security groups allow port 22 from \(source)")
        }
        if rules.contains(where: \.hasOtherSources) {
            return .cannotTell(
                "port 22 is open only to other security groups or prefix lists; cannot tell whether \(source) is in them"
            )
        }
        if facts.from == nil, !rules.isEmpty {
            return .cannotTell(
                "port 22 is open only to \(rules.flatMap(\.cidrs).joined(separator: ", ")); give --from CIDR to check your address"
            )
        }
        return .closed("no security group rule allows port 22 from \(source)")
    }

    /// The first inbound ACL entry (by rule number) that matches port 22 from the source decides.
    static func aclBlock(_ facts: DiagnoseFacts) -> String? {
        guard let entries = facts.aclEntries else { return nil }
        let source = facts.from ?? "0.0.0.0/0"
        let first = entries.filter { !$0.egress && $0.covers(port: 22) && CIDR.contains($0.cidr, source) }
            .min { $0.ruleNumber < $1.ruleNumber }
        guard let entry = first, !entry.allow else { return nil }
        return "the subnet's network ACL rule \(entry.ruleNumber) denies port 22 from \(source)"
    }

    /// The console's sshd and cloud-init errors worth showing, last ones last.
    public static func consoleErrors(_ console: String, limit: Int = 3) -> [String] {
        let signs = [
            "no space left on device", "bad ownership or modes", "authentication refused", "failed to start openssh",
            "sshd.service: failed", "sshd.service: main process exited", "failed to start ssh", "sshd: no hostkeys",
            "cloud-init", "read-only file system",
        ]
        let lines = console.split(whereSeparator: \.isNewline).map(String.init).filter { line in
            let lower = line.lowercased()
            guard signs.contains(where: lower.contains) else { return false }
            return !lower.contains("cloud-init") || lower.contains("error") || lower.contains("traceback")
                || lower.contains("failed")
        }
        return Array(lines.suffix(limit)).map { $0.trimmingCharacters(in: .whitespaces) }
    }
}

/// IPv4 CIDR containment; IPv6 only as `::/0`.
enum CIDR {
    /// Whether every address of `inner` is in `outer`.
    static func contains(_ outer: String, _ inner: String) -> Bool {
        if outer == "::/0" { return inner.contains(":") }
        guard let (o, oBits) = parse(outer), let (i, iBits) = parse(inner), iBits >= oBits else { return false }
        let mask: UInt32 = oBits == 0 ? 0 : ~UInt32(0) << (32 - UInt32(oBits))
        return o & mask == i & mask
    }

    static func parse(_ text: String) -> (UInt32, Int)? {
        let parts = text.split(separator: "/")
        let bits = parts.count == 2 ? Int(parts[1]) : 32
        let octets = parts.first?.split(separator: ".").compactMap { UInt32($0) } ?? []
        guard let bits, (0...32).contains(bits), octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return nil }
        return (octets.reduce(0) { $0 << 8 | $1 }, bits)
    }
}

/// `--from` validation for the CLI.
public enum CIDRText {
    public static func isValid(_ text: String) -> Bool { CIDR.parse(text) != nil }
}
