import Foundation
import RescueModel
import Testing

@testable import AWSKit
@testable import RescueController

/// Every step and status under every combination of observed states (of the parts the step
/// reads): the core never asks for a change EC2 would refuse or that could lose the root volume.
@Suite struct DecisionInvariantTests {
    static let targets: [InstanceState?] = [nil, .pending, .running, .stopping, .stopped, .shuttingDown, .terminated]
    static let hosts: [CloudObservation.HostView?] =
        [nil, .gone]
        + [InstanceState.pending, .running, .stopping, .stopped, .shuttingDown, .terminated].map { .state($0) }
    static let roots: [CloudObservation.RootView?] =
        [nil, .available, CloudObservation.RootView(state: .creating)]
        + [Fixture.target, Fixture.host, "i-other"].flatMap { id in
            [AttachmentState.attaching, .attached, .detaching, .busy].map {
                CloudObservation.RootView.attached(to: id, $0)
            }
        }

    /// Each combination's decision, for a record at `step` with `status`.
    static func decisions(_ step: RunStep, _ status: RunStatus, marketplace: Bool) -> [(CloudObservation, EngineAction)]
    {
        var record = Fixture.record(at: step, status: status, marketplace: marketplace)
        if step >= .snapshotted { record.snapshotID = "snap-1" }
        if step >= .agentUploaded { record.objectKeys = ["k"] }
        // What the driver reads: only the parts the decision needs.
        let needs = RescueDecision.needs(record)
        var all: [(CloudObservation, EngineAction)] = []
        for target in needs.contains(.target) ? targets : [nil] {
            for host in needs.contains(.rescueHost) ? hosts : [nil] {
                for root in needs.contains(.root) ? roots : [nil] {
                    let seen = CloudObservation(
                        now: Fixture.now, target: target.map { .init(state: $0, rootDeleteOnTermination: true) },
                        root: root,
                        rescueHost: host)
                    all.append((seen, RescueDecision.next(record, seen)))
                }
            }
        }
        return all
    }

    static let combinations: [(RunStep, RunStatus, Bool)] = RunStep.allCases.flatMap { step in
        [RunStatus.inProgress, .rollingBack].flatMap { status in [false, true].map { (step, status, $0) } }
    }

    @Test func theRootIsNeverOnAHostThatIsTerminated() {
        for (step, status, marketplace) in Self.combinations {
            for (seen, action) in Self.decisions(step, status, marketplace: marketplace) {
                switch action {
                case .terminateRescueHost, .retireRescueHost:
                    #expect(
                        seen.root?.attachedTo != Fixture.host,
                        "\(step) \(status): \(action) with \(String(describing: seen.root))")
                default: break
                }
            }
        }
    }

    @Test func volumesMoveOnlyFromTheStatesEC2Accepts() {
        for (step, status, marketplace) in Self.combinations {
            for (seen, action) in Self.decisions(step, status, marketplace: marketplace) {
                switch action {
                case .attachRoot:
                    #expect(
                        seen.root?.attachedTo == nil && seen.root?.state == .available,
                        "\(step) \(status): attach from \(String(describing: seen.root))")
                case .detachRoot(let owner):
                    #expect(
                        seen.root?.attachedTo == owner && seen.root?.attachment == .attached,
                        "\(step) \(status): detach from \(String(describing: seen.root))")
                case .startTarget:
                    #expect(
                        seen.target?.state == .stopped,
                        "\(step) \(status): start from \(String(describing: seen.target))")
                default: break
                }
            }
        }
    }

    @Test func theTargetStartsOnlyWithItsRootAttached() {
        for (step, status, marketplace) in Self.combinations {
            for (seen, action) in Self.decisions(step, status, marketplace: marketplace) where action == .startTarget {
                #expect(
                    seen.root == nil || (seen.root?.attachedTo == Fixture.target && seen.root?.attachment == .attached),
                    "\(step) \(status)")
            }
        }
    }

    @Test func aRollbackNeverStopsLaunchesOrWaitsForAReport() {
        for (step, _, marketplace) in Self.combinations {
            for (_, action) in Self.decisions(step, .rollingBack, marketplace: marketplace) {
                let forwardOnly: [EngineAction] = [
                    .stopTarget, .launchRescueHost, .createSnapshot, .uploadAgent, .wait(.report), .stopRescueHost,
                ]
                #expect(!forwardOnly.contains(action), "\(step): \(action)")
                if case .completeStep = action { Issue.record("\(step): a rollback completed a forward step") }
            }
        }
    }

    @Test func aTargetThatIsGoneNeverGetsItsRootBackSilently() {
        for (step, status, marketplace) in Self.combinations {
            for (seen, action) in Self.decisions(step, status, marketplace: marketplace)
            where seen.target?.state.isGone == true {
                if case .attachRoot(let instance, _) = action {
                    #expect(instance != Fixture.target, "\(step) \(status)")
                }
            }
        }
    }
}
