import AWSKit
import Foundation
import Subprocess

/// The Instance Connect door: a throwaway ed25519 key made here is pushed with SendSSHPublicKey
/// for the login user (sshd accepts it for 60 s), one ssh session receives the compressed agent
/// on stdin and runs it with `sudo -n … --root /`, and the throwaway key is deleted. No S3.
public struct InstanceConnectRoute: Sendable {
    public struct Session: Sendable, Equatable {
        public var exitCode: Int32
        public var output: String
        public var error: String
        public init(exitCode: Int32, output: String, error: String) {
            self.exitCode = exitCode
            self.output = output
            self.error = error
        }
    }

    /// SendSSHPublicKey.
    public var push: @Sendable (_ instanceID: String, _ user: String, _ publicKey: String) async throws -> Void
    /// Runs ssh with these arguments, `input` on its stdin, for at most `seconds`.
    public var ssh: @Sendable (_ arguments: [String], _ input: [UInt8], _ seconds: Int) async throws -> Session
    public var user: String
    public var address: String
    /// Every `--ssh-option`, as for the login check.
    public var sshOptions: [String]
    public var timeoutSeconds: Int

    public init(
        push: @escaping @Sendable (String, String, String) async throws -> Void,
        ssh: @escaping @Sendable ([String], [UInt8], Int) async throws -> Session = InstanceConnectRoute.runSSH,
        user: String, address: String, sshOptions: [String], timeoutSeconds: Int
    ) {
        self.push = push
        self.ssh = ssh
        self.user = user
        self.address = address
        self.sshOptions = sshOptions
        self.timeoutSeconds = timeoutSeconds
    }

    public func attempt(_ plan: RescuePlan) async throws -> DoorAttempt {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keyrescue-ic-\(plan.runID)")
        // The throwaway key lives only for this attempt (and expires at AWS after 60 s anyway).
        defer { try? FileManager.default.removeItem(at: directory) }
        let pair: KeyGenerator.Pair
        let agent: [UInt8]
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            pair = try KeyGenerator.generate(
                at: directory.appendingPathComponent("throwaway").path, comment: "keyrescue-\(plan.runID)-throwaway")
            agent = [UInt8](
                try AgentDelivery.compressedAgent(
                    agentPath: plan.delivery.agentPath, agentSHA256: plan.delivery.agentSHA256, codec: XZCommand()))
        } catch {
            return .fellThrough("cannot prepare the throwaway key or the agent: \(error)")
        }
        do {
            try await push(plan.target.instanceID, user, pair.publicLine)
        } catch let error as AWSError where error.isAccessDenied {
            return .fellThrough("not open (permission ec2-instance-connect:SendSSHPublicKey missing)")
        } catch let error as AWSError {
            return .fellThrough("SendSSHPublicKey failed: \(error.code): \(error.message)")
        }
        let script = DoorAgentScript.sshScript(agentSHA256: plan.delivery.agentSHA256, keys: plan.keys)
        let session = try await ssh(arguments(privateKey: pair.privatePath, script: script), agent, timeoutSeconds)
        if let ended = DoorAgentScript.attempt(fromOutput: session.output, plan: plan, route: .instanceConnect) {
            return ended
        }
        let last = session.error.split(whereSeparator: \.isNewline).last.map(String.init) ?? "no output"
        return .fellThrough("the ssh session as \(user)@\(address) ended \(session.exitCode) without a report: \(last)")
    }

    /// The host key is not known before the agent reports it, so this one session does not check
    /// it; it carries only the agent and public keys, and the login check that follows is strict.
    func arguments(privateKey: String, script: String) -> [String] {
        sshOptions + [
            "-i", privateKey, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
            "\(user)@\(address)", "sh -c " + DoorAgentScript.quote(script),
        ]
    }

    /// `timeout SECONDS ssh …` with the agent on stdin.
    public static func runSSH(_ arguments: [String], _ input: [UInt8], _ seconds: Int) async throws -> Session {
        let run = try await Subprocess.run(
            .path("/usr/bin/timeout"), arguments: Arguments(["\(seconds)", "/usr/bin/ssh"] + arguments),
            input: .array(input),
            output: .string(limit: 1 << 20), error: .string(limit: 65536))
        let code: Int32 =
            switch run.terminationStatus {
            case .exited(let code): code
            default: -1
            }
        return Session(exitCode: code, output: run.standardOutput, error: run.standardError)
    }
}
