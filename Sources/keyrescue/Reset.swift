import AWSKit
import ArgumentParser
import Foundation
import RescueController

struct Reset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install a new SSH public key on an instance (the whole rescue).")
    @OptionGroup var options: ResetOptions
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await exitOnFailure(.beforeChange) { try await ResetCommand(options: options, aws: aws).run() }
    }
}

/// Wires `ResetFlow`'s stages to AWS, the journal, the engine and this terminal.
struct ResetCommand {
    var options: ResetOptions
    var aws: AWSOptions

    func run() async throws {
        let out = ProgressRenderer.forStdout(json: options.json)
        let client = try await aws.client()
        let agentPath = try AgentLocator.find(options.agent)
        let runID = CleanupPlan.newRunID()
        let journal = JournalStore(directory: JournalStore.defaultDirectory())
        let options = options
        let stages = ResetFlow.Stages(
            loadKeys: {
                try ResetKeys.load(
                    publicKey: options.publicKey, generateKey: options.generateKey, instanceID: options.instanceID)
            },
            preflight: { keys in
                try await Preflight(aws: client).run(options.request(keys, agentPath: agentPath), runID: runID)
            },
            probePermissions: { plan in try await Preflight(aws: client).probePermissions(plan) },
            confirm: { question in Terminal.confirm(question.prompt, json: options.json) },
            execute: { plan in
                out.handle(.note("journal: \(journal.path(of: plan.runID).path)"))
                let engine = RescueEngine(
                    aws: client, journal: journal, environment: engineEnvironment(), events: { out.handle($0) })
                return try await engine.execute(plan)
            },
            checkLogin: { outcome, plan in
                await LoginCheck.run(
                    outcome, plan: plan, ec2: client.ec2, knownHostsDirectory: journal.directory,
                    events: { out.handle($0) })
            })
        let flow = ResetFlow(
            stages: stages, dryRun: options.dryRun, acceptWarnings: options.yes, doors: doorSequence(client)
        ) {
            ResetRenderer.render($0, out)
        }
        try await flow.run()
    }
}

extension ResetOptions {
    func request(_ keys: ResetKeys, agentPath: String) -> ResetRequest {
        var request = ResetRequest(instanceID: instanceID, publicKeys: [keys.publicLine], agentPath: agentPath)
        request.privateKeyPath = keys.privatePath
        request.user = user
        request.replaceKeys = replaceKeys
        request.subnet = subnet
        request.rescueAMI = rescueAMI
        request.instanceType = instanceType
        request.bucket = bucket
        request.verify = verify
        request.deleteSnapshot = deleteSnapshot
        request.sshOptions = sshOptions
        request.tags = (try? UserTags.parse(tags)) ?? []  // validate() refused bad ones
        request.allowInstanceStoreLoss = allowInstanceStoreLoss
        request.standby = standby
        return request
    }
}

/// The engine's clock and crash hook. The fault matrix (Tests/e2e/test_fault_matrix.py) sets
/// KEYRESCUE_TEST_KILL_AFTER=STEP: the process SIGKILLs itself right after that step is journaled;
/// =enterStandby or =exitStandby: right after that call reached Auto Scaling (test_asg_standby.py).
func engineEnvironment() -> EngineEnvironment {
    guard let value = ProcessInfo.processInfo.environment["KEYRESCUE_TEST_KILL_AFTER"] else {
        return EngineEnvironment()
    }
    let actions: [String: EngineAction] = ["enterStandby": .enterStandby, "exitStandby": .exitStandby]
    let point: EngineCheckpoint? =
        RunStep(rawValue: value).map { .stepDone($0) } ?? actions[value].map { .actionDone($0) }
    guard let point else { return EngineEnvironment() }
    return EngineEnvironment { reached in
        if reached == point { kill(getpid(), SIGKILL) }
    }
}
