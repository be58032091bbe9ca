/// What the controller asks the agent to do on the rescue host. Travels inside the user-data.
public struct RescueJob: Codable, Equatable, Sendable {
    /// Always `WireFormat.version` when written by this release.
    public var version: Int
    /// The controller's run id (also the marker in authorized_keys and the `keyrescue:run` tag).
    public var runID: String
    /// The target's root volume, `vol-…`.
    public var volumeID: String
    /// The device name the controller attached the volume as, e.g. `/dev/sdf`.
    public var deviceName: String
    /// OpenSSH public key lines (`type base64 [comment]`) to install.
    public var publicKeys: [String]
    /// `--user`: login user chosen by the operator instead of the agent's rules.
    public var user: String?
    /// Keep only the new key(s) in authorized_keys.
    public var replace: Bool
    /// Mount read-only and report what would be done.
    public var dryRun: Bool
    public var options: Options

    public struct Options: Codable, Equatable, Sendable {
        /// How long the agent waits for the volume to appear on the rescue host.
        public var volumeWaitSeconds: Int
        /// Keep a copy of the previous authorized_keys next to it.
        public var backup: Bool

        public init(volumeWaitSeconds: Int = 300, backup: Bool = true) {
            self.volumeWaitSeconds = volumeWaitSeconds
            self.backup = backup
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = Options()
            volumeWaitSeconds =
                try c.decodeIfPresent(Int.self, forKey: .volumeWaitSeconds) ?? defaults.volumeWaitSeconds
            backup = try c.decodeIfPresent(Bool.self, forKey: .backup) ?? defaults.backup
        }
    }

    public init(
        runID: String, volumeID: String, deviceName: String, publicKeys: [String],
        user: String? = nil, replace: Bool = false, dryRun: Bool = false, options: Options = Options()
    ) {
        self.version = WireFormat.version
        self.runID = runID
        self.volumeID = volumeID
        self.deviceName = deviceName
        self.publicKeys = publicKeys
        self.user = user
        self.replace = replace
        self.dryRun = dryRun
        self.options = options
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        runID = try c.decode(String.self, forKey: .runID)
        volumeID = try c.decode(String.self, forKey: .volumeID)
        deviceName = try c.decode(String.self, forKey: .deviceName)
        publicKeys = try c.decode([String].self, forKey: .publicKeys)
        user = try c.decodeIfPresent(String.self, forKey: .user)
        replace = try c.decodeIfPresent(Bool.self, forKey: .replace) ?? false
        dryRun = try c.decodeIfPresent(Bool.self, forKey: .dryRun) ?? false
        options = try c.decodeIfPresent(Options.self, forKey: .options) ?? Options()
    }
}
