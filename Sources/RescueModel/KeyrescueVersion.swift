/// The one version of keyrescue: the agent reports it, the controller sends it as its user agent.
public enum KeyrescueVersion {
    public static let current = "0.1.0"
}
