import Foundation
import Synchronization
import Testing

@testable import AWSKit

/// botocore's waiters-2.json, read from the installed botocore (the reference).
enum BotocoreWaiters {
    static let file: String? = {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))"]
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let dir = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let path = "\(dir)/data/ec2/2016-11-15/waiters-2.json"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }()

    static var available: Bool { file != nil }

    static func waiter(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: try #require(file)))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let waiters = try #require(root["waiters"] as? [String: Any])
        return try #require(waiters[name] as? [String: Any])
    }
}

func instancesXML(_ states: [String]) -> StepTransport.Step {
    let items = states.enumerated().map {
        "<item><instanceId>i-\($0.offset)</instanceId><instanceState><name>\($0.element)</name></instanceState></item>"
    }
    return StepTransport.xml(
        200,
        "<DescribeInstancesResponse><reservationSet><item><instancesSet>\(items.joined())</instancesSet></item></reservationSet></DescribeInstancesResponse>"
    )
}

@Suite struct WaiterTests {
    struct Transcribed: Equatable, CustomStringConvertible {
        var state: String, matcher: String, argument: String?, expected: String
        var description: String { "\(state) \(matcher) \(argument ?? "-") == \(expected)" }
    }

    static func transcribe<T>(_ waiter: Waiter<T>) -> [Transcribed] {
        waiter.acceptors.map { acceptor in
            switch acceptor.matcher {
            case .pathAll(let argument, let expected, _):
                Transcribed(state: acceptor.state.rawValue, matcher: "pathAll", argument: argument, expected: expected)
            case .pathAny(let argument, let expected, _):
                Transcribed(state: acceptor.state.rawValue, matcher: "pathAny", argument: argument, expected: expected)
            case .error(let code):
                Transcribed(state: acceptor.state.rawValue, matcher: "error", argument: nil, expected: code)
            }
        }
    }

    static let ours: [(String, [Transcribed], Double, Int)] = [
        (
            "InstanceRunning", transcribe(EC2Waiters.instanceRunning), EC2Waiters.instanceRunning.delay,
            EC2Waiters.instanceRunning.maxAttempts
        ),
        (
            "InstanceStopped", transcribe(EC2Waiters.instanceStopped), EC2Waiters.instanceStopped.delay,
            EC2Waiters.instanceStopped.maxAttempts
        ),
        (
            "InstanceTerminated", transcribe(EC2Waiters.instanceTerminated), EC2Waiters.instanceTerminated.delay,
            EC2Waiters.instanceTerminated.maxAttempts
        ),
        (
            "VolumeAvailable", transcribe(EC2Waiters.volumeAvailable), EC2Waiters.volumeAvailable.delay,
            EC2Waiters.volumeAvailable.maxAttempts
        ),
        (
            "VolumeInUse", transcribe(EC2Waiters.volumeInUse), EC2Waiters.volumeInUse.delay,
            EC2Waiters.volumeInUse.maxAttempts
        ),
        (
            "VolumeDeleted", transcribe(EC2Waiters.volumeDeleted), EC2Waiters.volumeDeleted.delay,
            EC2Waiters.volumeDeleted.maxAttempts
        ),
        (
            "SnapshotCompleted", transcribe(EC2Waiters.snapshotCompleted), EC2Waiters.snapshotCompleted.delay,
            EC2Waiters.snapshotCompleted.maxAttempts
        ),
    ]

    @Test(.enabled(if: BotocoreWaiters.available, "botocore (installed by scripts/setup) holds the reference waiters"))
    func acceptorsMatchBotocore() throws {
        for (name, acceptors, delay, maxAttempts) in Self.ours {
            let json = try BotocoreWaiters.waiter(name)
            #expect(json["delay"] as? Int == Int(delay), "\(name) delay")
            #expect(json["maxAttempts"] as? Int == maxAttempts, "\(name) maxAttempts")
            let reference = (json["acceptors"] as? [[String: Any]] ?? []).map {
                Transcribed(
                    state: $0["state"] as? String ?? "", matcher: $0["matcher"] as? String ?? "",
                    argument: $0["argument"] as? String, expected: "\($0["expected"] ?? "")")
            }
            #expect(acceptors == reference, "\(name)")
        }
    }

    @Test func pollsUntilSuccessOnTheBotocoreScheduleAndReportsProgress() async throws {
        let transport = StepTransport([
            instancesXML(["stopping"]), instancesXML(["stopping"]), instancesXML(["stopped"]),
        ])
        let clock = SteppedClock()
        let seen = Mutex<[String]>([])
        let result = try await scriptedClient(transport, clock: clock).ec2.wait(
            EC2Waiters.instanceStopped, instanceIds: ["i-0"]
        ) { progress in
            seen.withLock { $0.append("\(progress.attempt):\(progress.observed)") }
        }
        #expect(result.map(\.state) == [.stopped])
        #expect(clock.sleeps == [15, 15])
        #expect(seen.withLock { $0 } == ["1:i-0 stopping", "2:i-0 stopping", "3:i-0 stopped"])
    }

    @Test func failureStateStopsAtOnce() async throws {
        let transport = StepTransport([instancesXML(["pending"]), instancesXML(["terminated"])])
        let error = await #expect(throws: WaiterError.self) {
            _ = try await scriptedClient(transport).ec2.wait(EC2Waiters.instanceRunning, instanceIds: ["i-0"])
        }
        #expect(error?.reason == .failureState)
        #expect(error?.attempts == 2)
    }

    @Test func notFoundIsRetriedForInstanceRunning() async throws {
        let transport = StepTransport([StepTransport.ec2Error("InvalidInstanceID.NotFound"), instancesXML(["running"])])
        let result = try await scriptedClient(transport).ec2.wait(
            EC2Waiters.instanceRunning, instanceIds: ["i-0"], schedule: .fixed(interval: 1, timeout: 60))
        #expect(result.first?.state == .running)
    }

    @Test func unexpectedErrorsAreThrownAsTheyAre() async throws {
        let transport = StepTransport([StepTransport.ec2Error("UnauthorizedOperation", status: 403)])
        await #expect(throws: AWSError.self) {
            _ = try await scriptedClient(transport).ec2.wait(EC2Waiters.instanceStopped, instanceIds: ["i-0"])
        }
    }

    @Test func fixedScheduleTimesOut() async throws {
        let transport = StepTransport([], fallback: instancesXML(["stopping"]))
        let clock = SteppedClock()
        let error = await #expect(throws: WaiterError.self) {
            _ = try await scriptedClient(transport, clock: clock).ec2.wait(
                EC2Waiters.instanceStopped, instanceIds: ["i-0"], schedule: .fixed(interval: 1, timeout: 10))
        }
        #expect(error?.reason == .timedOut)
        #expect(clock.sleeps == Array(repeating: 1, count: 10))
    }

    @Test func backoffScheduleDoublesToItsCap() async throws {
        let transport = StepTransport([], fallback: instancesXML(["stopping"]))
        let clock = SteppedClock()
        await #expect(throws: WaiterError.self) {
            _ = try await scriptedClient(transport, clock: clock).ec2.wait(
                EC2Waiters.instanceStopped, instanceIds: ["i-0"],
                schedule: .backoff(initial: 1, maxInterval: 4, timeout: 20))
        }
        #expect(clock.sleeps == [1, 2, 4, 4, 4, 4])
    }

    @Test func volumeDeletedSucceedsWhenTheVolumeIsGone() async throws {
        let transport = StepTransport([StepTransport.ec2Error("InvalidVolume.NotFound")])
        let volumes = try await scriptedClient(transport).ec2.wait(EC2Waiters.volumeDeleted, volumeIds: ["vol-1"])
        #expect(volumes.isEmpty)
    }

    @Test func pathAllNeedsAtLeastOneValue() async throws {
        let transport = StepTransport([instancesXML([]), instancesXML(["stopped", "stopped"])])
        let result = try await scriptedClient(transport).ec2.wait(EC2Waiters.instanceStopped, instanceIds: ["i-0"])
        #expect(result.count == 2)
        #expect(transport.sent.count == 2)
    }
}
