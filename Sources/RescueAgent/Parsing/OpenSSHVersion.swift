import RescueModel

/// The target's OpenSSH server version, read from its files (never by running its sshd): the
/// dpkg status database, else the `OpenSSH_X.Y` string inside the sshd binary.
public struct OpenSSHVersion: Comparable, Equatable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static func < (a: Self, b: Self) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
    public var description: String { "\(major).\(minor)" }

    /// A source the agent cannot read (too large, not a regular file) is passed over: the version
    /// only adds warnings, it decides nothing.
    public static func read(_ files: some TargetFiles) -> OpenSSHVersion? {
        if let status = try? files.text("/var/lib/dpkg/status", limit: ReadLimits.packageDatabase),
            let version = fromDpkgStatus(status)
        {
            return version
        }
        for path in ["/usr/sbin/sshd", "/usr/libexec/openssh/sshd-session", "/usr/lib/openssh/sshd-session"] {
            if let bytes = try? files.read(path, limit: ReadLimits.sshdBinary)?.bytes, let version = fromBinary(bytes) {
                return version
            }
        }
        return nil
    }

    /// `Package: openssh-server` … `Version: 1:9.2p1-2+deb12u3` → 9.2 (epoch and Debian revision dropped).
    static func fromDpkgStatus(_ text: String) -> OpenSSHVersion? {
        for stanza in text.split(separator: "\n\n", omittingEmptySubsequences: true) {
            let lines = stanza.split(separator: "\n")
            guard lines.contains("Package: openssh-server"),
                let line = lines.first(where: { $0.hasPrefix("Version: ") })
            else { continue }
            var version = line.dropFirst("Version: ".count)
            if let colon = version.firstIndex(of: ":") { version = version[version.index(after: colon)...] }
            return parse(version)
        }
        return nil
    }

    /// The first `OpenSSH_9.6` in the binary's bytes.
    static func fromBinary(_ bytes: [UInt8]) -> OpenSSHVersion? {
        let marker = Array("OpenSSH_".utf8)
        var i = 0
        while i + marker.count < bytes.count {
            if bytes[i] == marker[0], Array(bytes[i..<(i + marker.count)]) == marker {
                let tail = bytes[(i + marker.count)..<min(bytes.count, i + marker.count + 8)]
                if let version = parse(Substring(String(decoding: tail, as: UTF8.self))) { return version }
            }
            i += 1
        }
        return nil
    }

    static func parse(_ text: Substring) -> OpenSSHVersion? {
        let digits = text.prefix { $0.isNumber || $0 == "." }.split(separator: ".")
        guard digits.count >= 2, let major = Int(digits[0]), let minor = Int(digits[1]) else { return nil }
        return OpenSSHVersion(major, minor)
    }

    /// Why this server would refuse the key, or nil when it accepts it.
    public func refusal(of type: PublicKey.KeyType) -> String? {
        switch type {
        case .ed25519 where self < OpenSSHVersion(6, 5): "OpenSSH \(self) predates ed25519 keys (6.5)"
        case .ecdsaP256, .ecdsaP384, .ecdsaP521:
            self < OpenSSHVersion(5, 7) ? "OpenSSH \(self) predates ECDSA keys (5.7)" : nil
        case .skEd25519, .skEcdsaP256:
            self < OpenSSHVersion(8, 2) ? "OpenSSH \(self) predates security-key (sk-) keys (8.2)" : nil
        case .rsa where self >= OpenSSHVersion(8, 8):
            "OpenSSH \(self) refuses ssh-rsa SHA-1 signatures: log in with a client that signs rsa-sha2-256/512 (OpenSSH 7.2 or later), or use an ed25519 key"
        default: nil
        }
    }
}
