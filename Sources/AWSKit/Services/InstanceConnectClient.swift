import Foundation

/// EC2 Instance Connect (JSON 1.1, target prefix AWSEC2InstanceConnectService): pushes a public
/// key that the instance's sshd accepts for 60 s for one OS user (botocore's
/// ec2-instance-connect 2018-04-02 model).
public struct InstanceConnectClient: Sendable {
    public let client: ServiceClient
    public init(client: ServiceClient) { self.client = client }

    public func sendSSHPublicKey(instanceId: String, osUser: String, publicKey: String) async throws {
        let answer = try await client.json(
            "SendSSHPublicKey", targetPrefix: "AWSEC2InstanceConnectService",
            ["InstanceId": instanceId, "InstanceOSUser": osUser, "SSHPublicKey": publicKey])
        if answer["Success"] as? Bool == false {
            throw AWSError(
                code: "SendSSHPublicKeyFailed", message: "SendSSHPublicKey answered Success false", httpStatus: 200,
                service: "ec2-instance-connect", action: "SendSSHPublicKey")
        }
    }
}
