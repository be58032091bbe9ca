import RescueModel

/// The target's SSH host public keys (`/etc/ssh/ssh_host_*_key.pub`), so that the first login
/// after the rescue can check the host key instead of trusting it blindly.
public enum HostKeys {
    /// A host key the agent cannot read (not a regular file, too large) is left out of the report:
    /// the first login then cannot check that key, nothing else changes.
    public static func read(_ files: some TargetFiles) -> [RescueReport.HostKey] {
        ((try? files.glob("/etc/ssh/ssh_host_*_key.pub")) ?? []).compactMap { path in
            guard let text = try? files.text(path, limit: ReadLimits.smallFile), let key = try? PublicKey(parsing: text)
            else { return nil }
            return RescueReport.HostKey(type: key.type.rawValue, base64: key.base64, fingerprint: key.fingerprint)
        }
    }
}
