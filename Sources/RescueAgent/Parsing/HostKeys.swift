import RescueModel

/// The target's SSH host public keys (`/etc/ssh/ssh_host_*_key.pub`), so that the first login
/// after the rescue can check the host key instead of trusting it blindly.
public enum HostKeys {
    public static func read(_ files: some TargetFiles) -> [RescueReport.HostKey] {
        files.glob("/etc/ssh/ssh_host_*_key.pub").compactMap { path in
            guard let text = files.text(path), let key = try? PublicKey(parsing: text) else { return nil }
            return RescueReport.HostKey(type: key.type.rawValue, base64: key.base64, fingerprint: key.fingerprint)
        }
    }
}
