import RescueModel

/// The agent library: device discovery, mounting, root detection and the safe key writer.
public enum Agent {
    public static let wireFormatVersion = WireFormat.version
}
