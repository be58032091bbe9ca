import RescueModel

/// The login user, decided from the target's own files (docs/AGENT-RULES.md, "Which user").
public struct ChosenUser: Equatable, Sendable {
    public enum Reason: String, Sendable {
        case override, cloudInit, distroTable, onlyHumanUser
    }

    public var entry: PasswdEntry
    public var reason: Reason
    /// Things worth a warning, e.g. cloud-init names a user that does not exist.
    public var notes: [String]
}

public enum LoginUserChoice {
    /// Ordinary accounts as useradd makes them: uid 1000…59999 (login.defs UID_MIN/UID_MAX).
    public static let humanUIDs: Range<UInt32> = 1000..<60000

    public static func choose(
        override: String?, cloudInit: CloudInitUsers, distroID: String?, passwd: [PasswdEntry]
    ) throws(RescueReport.Failure) -> ChosenUser {
        // A few names are looked up: a scan each, no copy of a passwd that may hold 200,000 accounts.
        let byName = { (name: String) in passwd.first { $0.name == name } }
        let humanCount = passwd.lazy.filter(isHumanUser).count
        let humans = Array(passwd.lazy.filter(isHumanUser).prefix(maxCandidates))
        if let override {
            guard let entry = byName(override) else {
                throw RescueReport.Failure(
                    .userNotFound, "user \(override) is not in the target's /etc/passwd",
                    hint: humans.isEmpty
                        ? "check the name; the target has no ordinary users"
                        : "check the name, or pass one of the target's users with --user",
                    candidates: humans.map(\.name))
            }
            return ChosenUser(entry: entry, reason: .override, notes: [])
        }
        var notes: [String] = []
        if let name = cloudInit.keyUser {
            if let entry = byName(name) { return ChosenUser(entry: entry, reason: .cloudInit, notes: notes) }
            notes.append("cloud-init's default user \(name) is not in the target's /etc/passwd")
        }
        for name in LoginUserTable.candidates(distroID: distroID ?? "") {
            if let entry = byName(name) { return ChosenUser(entry: entry, reason: .distroTable, notes: notes) }
        }
        if humanCount == 1, let only = humans.first {
            return ChosenUser(entry: only, reason: .onlyHumanUser, notes: notes)
        }
        let message =
            humans.isEmpty
            ? "no login user found: no cloud-init default user, no known default for \(distroID ?? "this distro"), no ordinary user"
            : "cannot tell which user logs in: \(listed(humans.map(\.name), of: humanCount))"
        throw RescueReport.Failure(
            .noLoginUser, message, hint: "pass the user with --user NAME",
            candidates: humans.map(\.name))
    }

    /// A passwd of 200,000 accounts must not become a message of 200,000 names.
    static let maxCandidates = 50

    /// The first 20 of `total` names.
    static func listed(_ names: [String], of total: Int) -> String {
        let shown = names.prefix(20).joined(separator: ", ")
        return total > 20 ? "\(shown) and \(total - 20) more" : shown
    }

    public static func isHumanUser(_ entry: PasswdEntry) -> Bool {
        humanUIDs.contains(entry.uid) && entry.home != "/" && isLoginShell(entry.shell)
    }

    /// False for the shells that refuse logins (nologin, false, and the sync/halt/shutdown accounts).
    public static func isLoginShell(_ shell: String) -> Bool {
        let base = shell.split(separator: "/").last.map(String.init) ?? shell
        return !["nologin", "false", "sync", "halt", "shutdown"].contains(base)
    }
}
