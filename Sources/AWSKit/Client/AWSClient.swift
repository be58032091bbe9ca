import Foundation
import Logging

/// The one facade: `AWSClient(config:transport:logger:)` then `.ec2`, `.s3`, `.ssm`, `.kms`, `.sts`.
/// The services share the transport (and its connections), the credentials, and one retry quota.
public struct AWSClient: Sendable {
    public let ec2: EC2Client
    public let s3: S3Client
    public let ssm: SSMClient
    public let kms: KMSClient
    public let sts: STSClient
    public let autoScaling: AutoScalingClient
    public let instanceConnect: InstanceConnectClient
    public let region: String

    public init(
        config: ResolvedAWSConfig, transport: any HTTPTransport, retry: RetryPolicy = RetryPolicy(),
        clock: any AWSClock = SystemClock(),
        logger: Logger = Logger(label: "keyrescue.awskit", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.init(
            region: config.region, credentials: config.credentialProvider, endpoint: { config.endpoint(for: $0) },
            transport: transport, retry: retry, clock: clock, logger: logger)
    }

    /// Without a resolved configuration (tests, benchmarks): region, credentials, endpoint per service.
    public init(
        region: String, credentials: any CredentialProvider, endpoint: (String) -> URL, transport: any HTTPTransport,
        retry: RetryPolicy = RetryPolicy(), clock: any AWSClock = SystemClock(),
        logger: Logger = Logger(label: "keyrescue.awskit", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        let quota = RetryQuota()
        func service(_ name: String) -> ServiceClient {
            ServiceClient(
                service: name, endpoint: endpoint(name), region: region, credentials: credentials, transport: transport,
                retry: retry, quota: quota, clock: clock, logger: logger)
        }
        self.region = region
        ec2 = EC2Client(client: service("ec2"))
        s3 = S3Client(client: service("s3"))
        ssm = SSMClient(client: service("ssm"))
        kms = KMSClient(client: service("kms"))
        sts = STSClient(client: service("sts"))
        autoScaling = AutoScalingClient(client: service("autoscaling"))
        instanceConnect = InstanceConnectClient(client: service("ec2-instance-connect"))
    }
}
