import Foundation
import RescueModel
import Testing

@testable import AWSKit
@testable import RescueController

/// Issue 12 rule 3: the rescue host's types are tried in order, each with a ClientToken of its
/// own; when EC2 refuses them all, the run ends before the target is touched (exit 3), naming each
/// type, its error and what to do.
@Suite struct RescueHostTypeTests {
    static let types = ["t3.micro", "t3.small", "m5.large"]

    func plan(_ h: EngineHarness, types: [String] = types) -> RescuePlan {
        var plan = h.plan
        plan.rescueHost.instanceType = types[0]
        plan.rescueHost.instanceTypes = types
        return plan
    }

    @Test(arguments: ["InsufficientInstanceCapacity", "InsufficientCapacityOnHost", "Unsupported"])
    func aTypeEC2RefusesGivesWayToTheNext(code: String) async throws {
        let h = try EngineHarness()
        h.cloud.with { $0.launchErrorByType = ["t3.micro": code] }
        _ = try await h.engine().execute(plan(h))
        let requests = h.cloud.with { $0.launchRequests }
        #expect(requests.map(\.type) == ["t3.micro", "t3.small"])
        #expect(requests.map(\.token) == [h.plan.runID, "\(h.plan.runID)-t1"], "a new ClientToken for the next type")
        let record = try h.record()
        #expect(record.status == .done)
        #expect(record.rescueTypeFailures?.map(\.type) == ["t3.micro"])
        #expect(record.rescueTypeFailures?.map(\.code) == [code])
        #expect(record.history.contains { $0.contains("rescue host type t3.micro refused: \(code)") })
        #expect(record.history.contains { $0.contains("(t3.small)") }, "the journal names the type launched")
        h.expectRestored()
    }

    @Test func typesAreTriedInThePlansOrderUntilOneLaunches() async throws {
        let h = try EngineHarness()
        h.cloud.with {
            $0.launchErrorByType = ["t3.micro": "InsufficientInstanceCapacity", "t3.small": "Unsupported"]
        }
        _ = try await h.engine().execute(plan(h))
        let requests = h.cloud.with { $0.launchRequests }
        #expect(requests.map(\.type) == Self.types)
        #expect(Set(requests.map(\.token)).count == 3, "every type its own ClientToken")
        #expect(h.cloud.rescueHosts.count == 1)
        h.expectRestored()
    }

    @Test func whenEveryTypeIsRefusedTheTargetIsNeverTouched() async throws {
        let h = try EngineHarness()
        h.cloud.with {
            $0.launchErrorByType = [
                "t3.micro": "InsufficientInstanceCapacity", "t3.small": "Unsupported",
                "m5.large": "InsufficientCapacityOnHost",
            ]
        }
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().execute(plan(h)) }
        #expect(failure.disposition == .nothingChanged)
        #expect(ExitStatus.of(failure, phase: .runStarted) == .refused)
        for (type, code) in [
            ("t3.micro", "InsufficientInstanceCapacity"), ("t3.small", "Unsupported"),
            ("m5.large", "InsufficientCapacityOnHost"),
        ] {
            #expect(failure.message.contains("\(type): \(code)"), "\(failure)")
        }
        #expect(failure.state.contains("was never stopped"))
        #expect(failure.next.contains("--instance-type") && failure.next.contains("us-east-1a"))
        #expect(h.cloud.calls("StopInstances") == 0)
        #expect(h.cloud.with { $0.launchRequests.count } == 3)
        #expect(try h.record().status == .rolledBack)
        h.expectRestored()
    }

    @Test func aQuotaIsNotATypesFault() async throws {
        let h = try EngineHarness()
        h.cloud.with { $0.launchErrorByType = ["t3.micro": "VcpuLimitExceeded"] }
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().execute(plan(h)) }
        #expect(failure.disposition == .nothingChanged && failure.message.contains("VcpuLimitExceeded"))
        #expect(h.cloud.with { $0.launchRequests.count } == 1)
        h.expectRestored()
    }

    @Test func aLaunchEC2EndsForWantOfCapacityGivesWayToTheNextType() async throws {
        let h = try EngineHarness()
        h.cloud.with { $0.capacityEndsLaunchOf = ["t3.micro"] }
        _ = try await h.engine().execute(plan(h))
        let requests = h.cloud.with { $0.launchRequests }
        #expect(requests.map(\.type) == ["t3.micro", "t3.small"])
        #expect(Set(requests.map(\.token)).count == 2)
        let record = try h.record()
        #expect(record.status == .done)
        #expect(record.rescueTypeFailures?.map(\.code) == [RescueHostTypes.capacityStateReason])
        #expect(record.retiredRescueInstanceIDs?.count == 1)
        #expect(h.cloud.calls.firstIndex(of: "StopInstances") ?? 0 > h.cloud.calls.lastIndex(of: "RunInstances") ?? 0)
        h.expectRestored()
    }

    @Test func aStoppedTargetsHostMovesOnToTheNextTypeToo() async throws {
        let h = try EngineHarness(originalState: .stopped)
        h.cloud.with { $0.capacityEndsLaunchOf = ["t3.micro"] }
        _ = try await h.engine().execute(plan(h))
        #expect(h.cloud.with { $0.launchRequests.map(\.type) } == ["t3.micro", "t3.small"])
        #expect(try h.record().status == .done)
        h.expectRestored()
    }
}
