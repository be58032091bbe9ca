import AWSKit
import Foundation
import RescueController
import Testing

@Suite struct CleanupPlanTests {
    /// 2027-01-15T08:00:00Z.
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    var dayAgo: Date { now.addingTimeInterval(-86400) }

    func object(_ key: String, hoursAgo: Double) -> S3Object {
        S3Object(key: key, lastModified: now.addingTimeInterval(-hoursAgo * 3600), size: 1)
    }

    func host(_ id: String, run: String, name: String? = nil) -> Instance {
        var host = Instance(instanceId: id, state: .running)
        host.tags = [Tag(RunTags.run, run), Tag("Name", name ?? "keyrescue-rescue-\(run)")]
        return host
    }

    func group(_ run: String) -> SecurityGroup { SecurityGroup(groupId: "sg-\(run)", groupName: "keyrescue-\(run)") }

    /// A run id started `hoursAgo` before `now`.
    func run(_ hoursAgo: Double) -> String { CleanupPlan.newRunID(at: now.addingTimeInterval(-hoursAgo * 3600)) }

    @Test func onlyOldObjectsOfFinishedRunsUnderThePrefixGo() {
        let listing = CleanupPlan.Listing(
            objects: [
                object("keyrescue/kr-old/keyrescue-agent", hoursAgo: 30),
                object("keyrescue/kr-old/report.json", hoursAgo: 30),
                object("keyrescue/kr-new/keyrescue-agent", hoursAgo: 1),
                object("keyrescue/kr-active/keyrescue-agent", hoursAgo: 48),
                object("someone-else/file", hoursAgo: 99), object("keyrescue/stray", hoursAgo: 99),
                object("keyrescue//x", hoursAgo: 99),
                // The agent under keyrescue/agents/ is shared by every run: the expiry rule ends it.
                object("keyrescue/agents/\(String(repeating: "a", count: 64)).xz", hoursAgo: 99),
            ],
            activeRuns: ["kr-active"])
        #expect(
            CleanupPlan.make(listing, before: dayAgo).objects == [
                "keyrescue/kr-old/keyrescue-agent", "keyrescue/kr-old/report.json",
            ])
    }

    @Test func aHostWithNoJournalIsAgedByItsRunsStartNotCountedOld() {
        let (old, recent) = (run(30), run(2))
        let listing = CleanupPlan.Listing(hosts: [host("i-old", run: old), host("i-recent", run: recent)])
        #expect(CleanupPlan.make(listing, before: dayAgo).hosts == ["i-old"])
    }

    @Test func aHostWhoseRunCannotBeDatedIsKept() {
        let listing = CleanupPlan.Listing(hosts: [host("i-1", run: "someone-elses-run")])
        #expect(CleanupPlan.make(listing, before: dayAgo).isEmpty)
    }

    @Test func theJournalsLastWriteWinsOverTheRunsStart() {
        let started = run(48)
        var listing = CleanupPlan.Listing(hosts: [host("i-1", run: started)], groups: [group(started)])
        listing.journalUpdated[started] = now.addingTimeInterval(-3600)
        #expect(CleanupPlan.make(listing, before: dayAgo).isEmpty)
        listing.journalUpdated[started] = now.addingTimeInterval(-30 * 3600)
        #expect(CleanupPlan.make(listing, before: dayAgo) == CleanupPlan(hosts: ["i-1"], groups: [group(started)]))
    }

    @Test func olderThanAppliesToSecurityGroups() {
        let (old, recent) = (run(30), run(2))
        let listing = CleanupPlan.Listing(groups: [
            group(old), group(recent), SecurityGroup(groupId: "sg-x", groupName: "web"),
        ])
        #expect(CleanupPlan.make(listing, before: dayAgo).groups == [group(old)])
        #expect(CleanupPlan.make(listing, before: now).groups == [group(old), group(recent)])
    }

    @Test func aRunInProgressKeepsEverything() {
        let active = run(72)
        let listing = CleanupPlan.Listing(
            hosts: [host("i-1", run: active)], groups: [group(active)],
            objects: [object("keyrescue/\(active)/report.json", hoursAgo: 72)],
            activeRuns: [active])
        #expect(CleanupPlan.make(listing, before: now).isEmpty)
    }

    @Test func onlyRescueHostsGoNotTheTargetsThatCarryTheTag() {
        let old = run(30)
        let listing = CleanupPlan.Listing(hosts: [
            host("i-target", run: old, name: "web-1"), host("i-rescue", run: old),
        ])
        #expect(CleanupPlan.make(listing, before: dayAgo).hosts == ["i-rescue"])
    }

    @Test func runIDsCarryTheirStartTime() {
        #expect(CleanupPlan.startTime(ofRun: run(5)) == now.addingTimeInterval(-5 * 3600))
        #expect(CleanupPlan.startTime(ofRun: "kr-19990101T000000-dead") == Date(timeIntervalSince1970: 915_148_800))
        #expect(CleanupPlan.startTime(ofRun: "kr-yesterday-1") == nil)
        #expect(CleanupPlan.startTime(ofRun: "x-19990101T000000-dead") == nil)
    }

    @Test(arguments: [("1d", 86400.0), ("12h", 43200), ("30m", 1800), ("0m", 0)])
    func olderThanParses(_ text: String, _ seconds: Double) { #expect(CleanupPlan.seconds(text) == seconds) }

    @Test(arguments: ["", "d", "12", "3w", "-1h", "h1"])
    func olderThanRejects(_ text: String) { #expect(CleanupPlan.seconds(text) == nil) }
}
