/// AWSKit: SigV4, the credential chain, the libcurl transport, retries, waiters and the calls.
public enum AWSKit {
    public static let userAgent = "keyrescue/0.1"
}
