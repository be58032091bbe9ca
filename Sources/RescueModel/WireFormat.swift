/// Version of the job and report documents exchanged by the controller and the agent.
/// Bump when a field changes meaning; readers refuse versions they do not know.
public enum WireFormat {
    public static let version = 1
}
