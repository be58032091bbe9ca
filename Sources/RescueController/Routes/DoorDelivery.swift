import AWSKit
import Foundation

/// The agent for the SSM route: the same shared object the swap uses (AgentDelivery), in the
/// plan's bucket, behind a short-lived presigned GET.
public enum DoorDelivery {
    public static func agentURL(_ plan: RescuePlan, _ aws: AWSClient, _ validSeconds: Int) async throws -> URL {
        let delivery = plan.delivery
        if delivery.createBucket {
            do { try await aws.s3.createBucket(delivery.bucket) } catch let e as AWSError where e.isBucketAlreadyOwned {
            }
        }
        let stored = try await AgentDelivery.deliver(
            agentPath: delivery.agentPath, agentSHA256: delivery.agentSHA256, bucket: delivery.bucket, s3: aws.s3)
        return try await aws.s3.presign(method: "GET", bucket: delivery.bucket, key: stored.key, expires: validSeconds)
    }
}
