import AWSKit
import Foundation
import Subprocess

/// The Instance Connect door: a throwaway ed25519 key made here is pushed with SendSSHPublicKey
/// for the login user (sshd accepts it for 60 s), one ssh session receives the agent
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
    /// Runs ssh with these arguments, the file at `inputPath` on its stdin, for at most `seconds`.
    public var ssh: @Sendable (_ arguments: [String], _ inputPath: String, _ seconds: Int) async throws -> Session
    public var user: String
    public var address: String
    /// Every `--ssh-option`, as for the login check.
    public var sshOptions: [String]
    public var timeoutSeconds: Int

    public init(
        push: @escaping @Sendable (String, String, String) async throws -> Void,
        ssh: @escaping @Sendable ([String], String, Int) async throws -> Session = InstanceConnectRoute.runSSH,
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
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            pair = try KeyGenerator.generate(
                at: directory.appendingPathComponent("throwaway").path, comment: "keyrescue-\(plan.runID)-throwaway")
        } catch {
            return .fellThrough("cannot make the throwaway key: \(error)")
        }
        do {
            try await push(plan.target.instanceID, user, pair.publicLine)
        } catch let error as AWSError where error.isAccessDenied {
            return .fellThrough("not open (permission ec2-instance-connect:SendSSHPublicKey missing)")
        } catch let error as AWSError {
            return .fellThrough("SendSSHPublicKey failed: \(error.code): \(error.message)")
        }
        let script = DoorAgentScript.sshScript(agentSHA256: plan.delivery.agentSHA256, keys: plan.keys)
        let session = try await ssh(
            arguments(privateKey: pair.privatePath, script: script), plan.delivery.agentPath, timeoutSeconds)
        if let ended = DoorAgentScript.attempt(fromOutput: session.output, plan: plan, route: .instanceConnect) {
            return ended
        }
        let last = session.error.split(whereSeparator: \.isNewline).suffix(3).joined(separator: " | ")
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

    /// `timeout SECONDS ssh …` with the agent file on stdin (a shell redirection: the whole file,
    /// however large, without holding it here).
    public static func runSSH(_ arguments: [String], _ inputPath: String, _ seconds: Int) async throws -> Session {
        let redirect = #"f=$1; t=$2; shift 2; exec /usr/bin/timeout "$t" /usr/bin/ssh "$@" < "$f""#
        let run = try await Subprocess.run(
            .path("/bin/sh"), arguments: Arguments(["-c", redirect, "sh", inputPath, "\(seconds)"] + arguments),
            input: .none,
            output: .string(limit: 1 << 20), error: .string(limit: 65536))
        let code: Int32 =
            switch run.terminationStatus {
            case .exited(let code): code
            default: -1
            }
        return Session(exitCode: code, output: run.standardOutput, error: run.standardError)
    }
}
