@testable import AWSKit
import Foundation
import RescueModel
import Synchronization

@testable import RescueController

/// An in-memory cloud behind `RescueCloud` with EC2's rules that matter to a rescue: state
/// changes take time (each describe is one tick), a root detaches only from a stopped instance,
/// a volume attaches only when available, an instance without its root does not start, a
/// ClientToken sent again with other parameters is refused. A rescue host with the root attached
/// plays the agent: it puts a report under the key its user-data was presigned for.
final class FakeCloud: RescueCloud {
    struct Machine {
        var state: InstanceState
        var next: (state: InstanceState, ticks: Int)?
        var tags: [String: String] = [:]
        var mappings: [String: (volume: String, deleteOnTermination: Bool)] = [:]
        var rootDevice: String
        var launch: (token: String, userData: String?, reportKey: String)?
        var group: String?
        var stateReason: String?
        var stateReasonCode: String?
    }

    struct Disk {
        var attachedTo: String?
        var device: String?
        var attachment: AttachmentState?
        var next: (attachment: AttachmentState?, ticks: Int)?
    }

    struct World {
        var machines: [String: Machine] = [:]
        var disks: [String: Disk] = [:]
        var snapshots: [String: String] = [:]  // id -> run
        var groups: [String: String] = [:]  // name -> id
        var objects: [String: Data] = [:]  // "bucket/key"
        var calls: [String] = []
        var counter = 0
        /// StartInstances of the target answered with a capacity error this many times.
        var capacityFailures = 0
        /// What the agent reports; nil: it never reports.
        var agentReport: RescueReport?
        var agentTicks = 2
        var agentStarted: [String: Int] = [:]
        var lastPresignedPut = ""
        var console = ""
        /// Describes of a rescue host answered NotFound this many times after its launch
        /// (EC2's eventual consistency).
        var unseenAfterLaunch = 0
        var unseen: [String: Int] = [:]
        /// RunInstances answers InvalidGroup.NotFound this many times (a group just created).
        var groupUnseen = 0
        /// Rescue hosts whose agent never reports.
        var silent: Set<String> = []
        /// Rescue hosts never get ready (no route to S3): they run but put no `ready` object.
        var hostsNeverReady = false
        /// The next DetachVolume from a rescue host stays `busy` (the agent died with the root
        /// mounted) until the host is terminated (or, when `busySurvivesTermination`, until Force).
        var busyDetach = false
        var busySurvivesTermination = false
        /// GetObject of a missing key answers 403 (a caller without s3:ListBucket) this many times.
        var forbiddenMissingReads = 0
        /// The target's next start falls back to `stopped` with this StateReason message.
        var startFallsBack: String?
        /// The target has no public IPv4, only an IPv6 address.
        var ipv6Only = false
        /// RunInstances answers this error (capacity, an unsupported type) every time.
        var launchError: String?
        /// RunInstances of these types answers this error (capacity, a type the zone does not offer).
        var launchErrorByType: [String: String] = [:]
        /// Launches of these types are accepted, then end `terminated` for want of capacity.
        var capacityEndsLaunchOf: Set<String> = []
        /// Every RunInstances (not refused for its group), in order.
        var launchRequests: [(type: String, token: String)] = []
        /// The target's Auto Scaling group, when it is in one (FakeCloud+AutoScaling.swift).
        var autoScaling: FakeGroup?
    }

    let lag: Int
    let clock: TestClock
    private let world: Mutex<World>

    static let target = "i-target"
    static let root = "vol-root"
    static let rootDevice = "/dev/xvda"

    init(clock: TestClock, lag: Int = 1, targetState: InstanceState = .running) {
        self.clock = clock
        self.lag = lag
        var world = World()
        world.machines[Self.target] = Machine(
            state: targetState, rootDevice: Self.rootDevice, group: nil)
        world.machines[Self.target]?.mappings[Self.rootDevice] = (Self.root, true)
        world.disks[Self.root] = Disk(attachedTo: Self.target, device: Self.rootDevice, attachment: .attached)
        var ok = RescueReport(runID: nil, ok: true, agentVersion: "test")
        ok.user = "ec2-user"
        ok.keyFingerprint = "SHA256:test"
        world.agentReport = ok
        self.world = Mutex(world)
    }

    func with<T>(_ body: (inout World) throws -> T) rethrows -> T { try world.withLock { try body(&$0) } }
    var calls: [String] { with { $0.calls } }
    func calls(_ name: String) -> Int { calls.filter { $0 == name }.count }
    var rescueHosts: [String] { with { w in w.machines.keys.filter { w.machines[$0]?.launch != nil }.sorted() } }

    static func error(_ code: String, _ action: String, status: Int = 400) -> AWSError {
        AWSError(code: code, message: "fake", httpStatus: status, service: "ec2", action: action)
    }

    private func log(_ w: inout World, _ call: String) { w.calls.append(call) }

    /// One unit of time: pending state changes move on; the agent works.
    private func tick(_ w: inout World) {
        for (id, var m) in w.machines {
            if let (state, ticks) = m.next {
                if ticks <= 1 {
                    m.state = state
                    m.next = nil
                    if state == .terminated, !w.busySurvivesTermination { detachAll(from: id, &w) }
                } else {
                    m.next = (state, ticks - 1)
                }
            }
            w.machines[id] = m
        }
        for (id, var d) in w.disks {
            if let (attachment, ticks) = d.next {
                if ticks <= 1 {
                    d.attachment = attachment
                    d.next = nil
                    if attachment == nil { d.attachedTo = nil; d.device = nil }
                } else {
                    d.next = (attachment, ticks - 1)
                }
            }
            w.disks[id] = d
        }
        tickAutoScaling(&w)
        // The bootstrap: a running rescue host fetches the agent and says it is ready.
        for (_, m) in w.machines where m.state == .running && !w.hostsNeverReady {
            guard let report = m.launch?.reportKey, report.hasSuffix("report.json") else { continue }
            let ready = report.dropLast("report.json".count) + "ready"
            if w.objects[String(ready)] == nil { w.objects[String(ready)] = Data() }
        }
        // The agent: on a running rescue host with the root attached, it reports after a while.
        if let root = w.disks[Self.root], root.attachment == .attached, let host = root.attachedTo,
            let machine = w.machines[host], let launch = machine.launch, machine.state == .running,
            let report = w.agentReport, !w.silent.contains(host)
        {
            let started = w.agentStarted[host, default: w.counter]
            w.agentStarted[host] = started
            w.counter += 1
            if w.counter - started >= w.agentTicks, w.objects[launch.reportKey] == nil {
                w.objects[launch.reportKey] = Data((try? WireFormat.encode(report)) ?? [])
            }
        }
    }

    private func detachAll(from instance: String, _ w: inout World) {
        for (id, d) in w.disks where d.attachedTo == instance {
            w.disks[id] = Disk()
        }
        w.machines[instance]?.mappings = [:]
    }

    // MARK: RescueCloud

    func describeInstance(_ id: String) async throws -> Instance? {
        with { w in
            log(&w, "DescribeInstances")
            tick(&w)
            guard let m = w.machines[id] else { return nil }
            if let left = w.unseen[id], left > 0 {
                w.unseen[id] = left - 1
                return nil
            }
            var i = Instance(instanceId: id, state: m.state)
            i.tags = m.tags.map { Tag($0.key, $0.value) }
            i.rootDeviceName = m.rootDevice
            i.publicIpAddress = m.state == .running && !w.ipv6Only ? "203.0.113.7" : nil
            i.ipv6Address = m.state == .running && w.ipv6Only ? "2001:db8::7" : nil
            i.stateReason = m.stateReason
            i.stateReasonCode = m.stateReasonCode
            i.blockDeviceMappings = m.mappings.map {
                InstanceBlockDevice(
                    deviceName: $0.key, volumeId: $0.value.volume, status: "attached",
                    deleteOnTermination: $0.value.deleteOnTermination)
            }
            return i
        }
    }

    func instance(launchToken: String) async throws -> Instance? {
        let id = with { w -> String? in
            log(&w, "DescribeInstances(launch)")
            return w.machines.first { $0.value.tags[RunTags.launch] == launchToken && !$0.value.state.isGone }?.key
        }
        guard let id else { return nil }
        return try await describeInstance(id)
    }

    func describeVolume(_ id: String) async throws -> Volume? {
        with { w in
            log(&w, "DescribeVolumes")
            tick(&w)
            guard let d = w.disks[id] else { return nil }
            var v = Volume(volumeId: id, state: d.attachedTo == nil ? .available : .inUse)
            if let owner = d.attachedTo {
                v.attachments = [
                    VolumeAttachment(
                        volumeId: id, instanceId: owner, device: d.device, state: d.attachment,
                        deleteOnTermination: false)
                ]
            }
            return v
        }
    }

    func runInstances(_ request: RunInstancesRequest) async throws -> Instance {
        let id = try with { w -> String in
            log(&w, "RunInstances")
            if let code = w.launchError { throw Self.error(code, "RunInstances") }
            if w.groupUnseen > 0 {
                w.groupUnseen -= 1
                throw Self.error("InvalidGroup.NotFound", "RunInstances")
            }
            w.launchRequests.append((request.instanceType, request.clientToken))
            if let code = w.launchErrorByType[request.instanceType] { throw Self.error(code, "RunInstances") }
            if let (id, m) = w.machines.first(where: { $0.value.launch?.token == request.clientToken }) {
                guard m.launch?.userData == request.userData else {
                    throw Self.error("IdempotentParameterMismatch", "RunInstances")
                }
                return id
            }
            w.counter += 1
            let id = "i-rescue\(w.counter)"
            var m = Machine(
                state: .pending, next: (.running, lag), rootDevice: "/dev/xvda", group: request.securityGroupIds.first)
            m.launch = (request.clientToken, request.userData, w.lastPresignedPut)
            for tag in request.tags { m.tags[tag.key] = tag.value }
            if w.capacityEndsLaunchOf.contains(request.instanceType) {
                m.next = (.terminated, lag)
                m.stateReasonCode = "Server.InsufficientInstanceCapacity"
                m.stateReason = "Server.InsufficientInstanceCapacity: Insufficient capacity."
            }
            w.machines[id] = m
            w.unseen[id] = w.unseenAfterLaunch
            return id
        }
        return Instance(instanceId: id, state: .pending)
    }

    func stopInstance(_ id: String) async throws {
        try change(id, "StopInstances", from: [.running, .pending], via: .stopping, to: .stopped)
    }

    func startInstance(_ id: String) async throws {
        try with { w in
            if id == Self.target, w.capacityFailures > 0 {
                w.capacityFailures -= 1
                log(&w, "StartInstances")
                throw Self.error("InsufficientInstanceCapacity", "StartInstances", status: 500)
            }
            if let m = w.machines[id], m.mappings[m.rootDevice] == nil, m.launch == nil {
                log(&w, "StartInstances")
                throw Self.error("IncorrectInstanceState", "StartInstances")
            }
        }
        let fallsBack = with { w -> String? in
            guard id == Self.target, let reason = w.startFallsBack else { return nil }
            w.startFallsBack = nil
            w.machines[id]?.stateReason = reason
            return reason
        }
        try change(id, "StartInstances", from: [.stopped], via: .pending, to: fallsBack == nil ? .running : .stopped)
    }

    func terminateInstance(_ id: String) async throws {
        try change(
            id, "TerminateInstances", from: [.pending, .running, .stopping, .stopped], via: .shuttingDown,
            to: .terminated)
    }

    private func change(_ id: String, _ action: String, from: [InstanceState], via: InstanceState, to: InstanceState)
        throws
    {
        try with { w in
            log(&w, action)
            guard var m = w.machines[id] else { throw Self.error("InvalidInstanceID.NotFound", action) }
            if m.state == to || m.state == via { return }
            guard from.contains(m.state) else { throw Self.error("IncorrectInstanceState", action) }
            m.state = via
            m.next = (to, lag)
            w.machines[id] = m
        }
    }

    func attachVolume(_ volumeID: String, to instanceID: String, device: String) async throws {
        try with { w in
            log(&w, "AttachVolume")
            guard var d = w.disks[volumeID], w.machines[instanceID] != nil else {
                throw Self.error("InvalidVolume.NotFound", "AttachVolume")
            }
            guard d.attachedTo == nil else { throw Self.error("VolumeInUse", "AttachVolume") }
            d = Disk(attachedTo: instanceID, device: device, attachment: .attaching, next: (.attached, lag))
            w.disks[volumeID] = d
            w.machines[instanceID]?.mappings[device] = (volumeID, false)
        }
    }

    func detachVolume(_ volumeID: String, from instanceID: String) async throws {
        try with { w in
            log(&w, "DetachVolume")
            guard var d = w.disks[volumeID], d.attachedTo == instanceID, d.attachment == .attached else {
                throw Self.error("IncorrectState", "DetachVolume")
            }
            if let m = w.machines[instanceID], m.mappings[m.rootDevice]?.volume == volumeID, m.state != .stopped,
                m.launch == nil
            {
                throw Self.error("IncorrectState", "DetachVolume")  // a root leaves only a stopped instance
            }
            d.attachment = .detaching
            d.next = (nil, lag)
            if w.busyDetach, w.machines[instanceID]?.launch != nil {
                w.busyDetach = false
                d.attachment = .busy
                d.next = nil
            }
            w.disks[volumeID] = d
            if let device = d.device { w.machines[instanceID]?.mappings[device] = nil }
        }
    }

    func forceDetachVolume(_ volumeID: String, from instanceID: String) async throws {
        with { w in
            log(&w, "DetachVolume(Force)")
            guard w.disks[volumeID]?.attachedTo == instanceID else { return }
            if let device = w.disks[volumeID]?.device { w.machines[instanceID]?.mappings[device] = nil }
            w.disks[volumeID] = Disk()
        }
    }

    func setDeleteOnTermination(_ value: Bool, instanceID: String, device: String) async throws {
        with { w in
            log(&w, "ModifyInstanceAttribute")
            w.machines[instanceID]?.mappings[device]?.deleteOnTermination = value
        }
    }

    func createTags(_ resource: String, _ tags: [Tag]) async throws {
        with { w in
            log(&w, "CreateTags")
            for tag in tags { w.machines[resource]?.tags[tag.key] = tag.value }
        }
    }

    func deleteTags(_ resource: String, keys: [String]) async throws {
        with { w in
            log(&w, "DeleteTags")
            for key in keys { w.machines[resource]?.tags[key] = nil }
        }
    }

    func snapshot(run runID: String) async throws -> String? {
        with { w in
            log(&w, "DescribeSnapshots")
            return w.snapshots.first { $0.value == runID }?.key
        }
    }

    func createSnapshot(volumeID: String, description: String, tags: [Tag]) async throws -> String {
        with { w in
            log(&w, "CreateSnapshot")
            w.counter += 1
            let id = "snap-\(w.counter)"
            w.snapshots[id] = tags.first { $0.key == RunTags.run }?.value ?? ""
            return id
        }
    }

    func deleteSnapshot(_ id: String) async throws {
        with { w in
            log(&w, "DeleteSnapshot"); w.snapshots[id] = nil
        }
    }

    func securityGroup(named name: String) async throws -> String? {
        with { w in
            log(&w, "DescribeSecurityGroups"); return w.groups[name]
        }
    }

    func createSecurityGroup(name: String, description: String, vpcID: String?, tags: [Tag]) async throws -> String {
        with { w in
            log(&w, "CreateSecurityGroup")
            w.groups[name] = "sg-\(name)"
            return "sg-\(name)"
        }
    }

    func deleteSecurityGroup(_ id: String) async throws {
        try with { w in
            log(&w, "DeleteSecurityGroup")
            if w.machines.values.contains(where: { $0.group == id && $0.state != .terminated }) {
                throw Self.error("DependencyViolation", "DeleteSecurityGroup")
            }
            w.groups = w.groups.filter { $0.value != id }
        }
    }

    func consoleOutput(_ instanceID: String) async throws -> String {
        with { w in
            log(&w, "GetConsoleOutput"); return w.console
        }
    }

    func prepareBucket(_ bucket: String, expirePrefix prefix: String, days: Int) async throws {
        with { w in log(&w, "CreateBucket") }
    }

    func putObject(_ bucket: String, key: String, body: Data) async throws {
        with { w in
            log(&w, "PutObject"); w.objects["\(bucket)/\(key)"] = body
        }
    }

    func headObject(_ bucket: String, key: String) async throws -> S3ObjectHead? {
        with { w in
            log(&w, "HeadObject")
            return w.objects["\(bucket)/\(key)"].map { S3ObjectHead(size: $0.count, etag: nil, lastModified: Date()) }
        }
    }

    func getObject(_ bucket: String, key: String) async throws -> Data? {
        try with { w in
            log(&w, "GetObject")
            tick(&w)
            let object = w.objects["\(bucket)/\(key)"]
            if object == nil, w.forbiddenMissingReads > 0 {
                w.forbiddenMissingReads -= 1
                throw AWSError(
                    code: "AccessDenied", message: "fake", httpStatus: 403, service: "s3", action: "GetObject")
            }
            return object
        }
    }

    func deleteObject(_ bucket: String, key: String) async throws {
        with { w in
            log(&w, "DeleteObject"); w.objects["\(bucket)/\(key)"] = nil
        }
    }

    func presign(_ method: String, bucket: String, key: String, expires: Int) async throws -> (
        url: URL, validUntil: Date
    ) {
        let now = clock.now()
        return with { w in
            if method == "PUT" { w.lastPresignedPut = "\(bucket)/\(key)" }
            w.counter += 1
            let url = URL(string: "https://s3.fake/\(bucket)/\(key)?sig=\(w.counter)") ?? URL(fileURLWithPath: "/")
            return (url, now.addingTimeInterval(Double(expires)))
        }
    }
}

/// Time that moves only when the engine sleeps.
final class TestClock: AWSClock {
    private let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    func now() -> Date { time.withLock { $0 } }
    func sleep(seconds: Double) async throws { advance(seconds) }
    func advance(_ seconds: Double) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
