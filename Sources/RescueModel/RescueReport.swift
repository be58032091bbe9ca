/// What the agent found and did. Uploaded by the bootstrap script and echoed on the console.
public struct RescueReport: Codable, Equatable, Sendable {
    public var version: Int = WireFormat.version
    public var runID: String?
    /// True when the key is on disk afterwards (written now or already there).
    public var ok: Bool
    /// Set when `ok` is false.
    public var error: Failure?

    public var device: String?
    public var partition: String?
    public var filesystem: String?
    public var distro: Distro?
    public var user: String?
    public var uid: UInt32?
    public var gid: UInt32?
    public var home: String?
    public var authorizedKeysPath: String?
    /// `SHA256:…` as `ssh-keygen -lf` prints it (base64 without padding).
    public var keyFingerprint: String?
    public var backupPath: String?
    public var selinuxLabel: String?
    public var hostKeys: [HostKey] = []
    public var warnings: [Warning] = []
    /// The key was already in authorized_keys; nothing was written.
    public var alreadyPresent: Bool = false
    public var dryRun: Bool = false
    public var agentVersion: String
    /// Time spent per phase, in the order the phases ran.
    public var durations: [PhaseDuration] = []

    public init(runID: String?, ok: Bool, agentVersion: String) {
        self.runID = runID
        self.ok = ok
        self.agentVersion = agentVersion
    }

    /// A failed run: `ok` false with the error filled in.
    public static func failure(
        runID: String?, agentVersion: String, _ failure: Failure
    ) -> RescueReport {
        var report = RescueReport(runID: runID, ok: false, agentVersion: agentVersion)
        report.error = failure
        return report
    }

    public struct Failure: Codable, Equatable, Sendable, Error, CustomStringConvertible {
        public var code: RescueErrorCode
        /// What went wrong, for a human.
        public var message: String
        /// What to do about it.
        public var hint: String
        /// For `noLoginUser`: the users that could be meant (pass one with `--user`).
        public var candidates: [String]

        public init(_ code: RescueErrorCode, _ message: String, hint: String, candidates: [String] = []) {
            self.code = code
            self.message = message
            self.hint = hint
            self.candidates = candidates
        }

        public var description: String { hint.isEmpty ? message : "\(message)\n\(hint)" }
    }

    public struct Distro: Codable, Equatable, Sendable {
        /// os-release `ID`, e.g. `ubuntu`, `amzn`.
        public var id: String
        /// os-release `VERSION_ID`, e.g. `22.04`, `2023`.
        public var versionID: String?
        /// os-release `PRETTY_NAME`.
        public var prettyName: String?

        public init(id: String, versionID: String? = nil, prettyName: String? = nil) {
            self.id = id
            self.versionID = versionID
            self.prettyName = prettyName
        }
    }

    /// One of the target's `/etc/ssh/ssh_host_*_key.pub`, for pinning on the first login.
    public struct HostKey: Codable, Equatable, Sendable {
        public var type: String
        public var base64: String
        public var fingerprint: String

        public init(type: String, base64: String, fingerprint: String) {
            self.type = type
            self.base64 = base64
            self.fingerprint = fingerprint
        }

        /// `type base64`, the form known_hosts wants after the host name.
        public var knownHostsKey: String { "\(type) \(base64)" }
    }

    public struct Warning: Codable, Equatable, Sendable {
        public var code: RescueWarningCode
        public var message: String

        public init(_ code: RescueWarningCode, _ message: String) {
            self.code = code
            self.message = message
        }
    }

    public struct PhaseDuration: Codable, Equatable, Sendable {
        public var phase: String
        public var seconds: Double

        public init(_ phase: String, seconds: Double) {
            self.phase = phase
            self.seconds = seconds
        }
    }
}
