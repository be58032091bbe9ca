import AWSKit
import Foundation

/// What `keyrescue cleanup` deletes, decided without I/O from what it listed: rescue hosts and
/// security groups tagged `keyrescue:run`, and the S3 objects under `keyrescue/RUN/`, of runs no
/// longer in progress whose last activity is older than the cutoff. A run's last activity is its
/// journal's last write on this workstation, else the start time in its id (`kr-20261125T074512-…`);
/// when neither is known its leftovers are kept: an unknown age is not an old one.
public struct CleanupPlan: Equatable, Sendable {
    public var hosts: [String] = []
    public var groups: [SecurityGroup] = []
    public var objects: [String] = []

    public var isEmpty: Bool { hosts.isEmpty && groups.isEmpty && objects.isEmpty }

    /// What the account and this workstation hold.
    public struct Listing: Sendable {
        /// Instances tagged `keyrescue:run`, not terminated.
        public var hosts: [Instance]
        /// Security groups tagged `keyrescue:run`.
        public var groups: [SecurityGroup]
        public var objects: [S3Object]
        /// Runs whose target still carries their tags (in progress: never touched).
        public var activeRuns: Set<String>
        /// The journal's last write per run, for the runs whose journal this workstation can read.
        public var journalUpdated: [String: Date]

        public init(
            hosts: [Instance] = [], groups: [SecurityGroup] = [], objects: [S3Object] = [],
            activeRuns: Set<String> = [],
            journalUpdated: [String: Date] = [:]
        ) {
            self.hosts = hosts
            self.groups = groups
            self.objects = objects
            self.activeRuns = activeRuns
            self.journalUpdated = journalUpdated
        }
    }

    public init(hosts: [String] = [], groups: [SecurityGroup] = [], objects: [String] = []) {
        self.hosts = hosts
        self.groups = groups
        self.objects = objects
    }

    public static func make(_ listing: Listing, before cutoff: Date) -> CleanupPlan {
        func old(_ run: String) -> Bool {
            guard !listing.activeRuns.contains(run), let last = listing.journalUpdated[run] ?? startTime(ofRun: run)
            else { return false }
            return last < cutoff
        }
        var plan = CleanupPlan()
        for host in listing.hosts {
            guard let run = host.tags.first(where: { $0.key == RunTags.run })?.value,
                host.tags.contains(where: { $0.key == "Name" && $0.value.hasPrefix("keyrescue-rescue-") }), old(run)
            else { continue }
            plan.hosts.append(host.instanceId)
        }
        for group in listing.groups where group.groupName.hasPrefix("keyrescue-") {
            if old(String(group.groupName.dropFirst("keyrescue-".count))) { plan.groups.append(group) }
        }
        for object in listing.objects {
            let parts = object.key.split(separator: "/", omittingEmptySubsequences: false)
            // keyrescue/agents/SHA.xz is shared by every run (AgentDelivery); the bucket's expiry rule ends it.
            guard parts.count >= 3, parts[0] == "keyrescue", !parts[1].isEmpty,
                !object.key.hasPrefix(AgentDelivery.sharedPrefix),
                !listing.activeRuns.contains(String(parts[1])),
                object.lastModified < cutoff
            else { continue }
            plan.objects.append(object.key)
        }
        return plan
    }

    /// The UTC start time a run id carries (`kr-yyyyMMdd'T'HHmmss-xxxx`), nil for any other shape.
    public static func startTime(ofRun runID: String) -> Date? {
        let parts = runID.split(separator: "-")
        guard parts.count == 3, parts[0] == "kr", parts[1].count == 15 else { return nil }
        return runIDFormat().date(from: String(parts[1]))
    }

    /// The run id for a run started at `date`, with a random suffix.
    public static func newRunID(at date: Date = Date()) -> String {
        "kr-\(runIDFormat().string(from: date))-\(String(UInt16.random(in: 0...UInt16.max), radix: 16))"
    }

    private static func runIDFormat() -> DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyyMMdd'T'HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f
    }

    /// `--older-than`: a number with d, h or m.
    public static func seconds(_ text: String) -> Double? {
        guard let unit = text.last, let n = Double(text.dropLast()), n >= 0 else { return nil }
        switch unit {
        case "d": return n * 86400
        case "h": return n * 3600
        case "m": return n * 60
        default: return nil
        }
    }
}
