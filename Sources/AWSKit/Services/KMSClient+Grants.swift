import Foundation

extension KMSClient {
    /// KMS CreateGrant with `DryRun`: nil when the caller may create the grant
    /// (`DryRunOperationException`), else the refusal (`AccessDeniedException`, …). KMS developer
    /// guide, "Testing your permissions": DryRun "verifies that you have the required permissions".
    public func probeCreateGrant(keyId: String, grantee: String, operations: [String] = ["DescribeKey"]) async throws
        -> AWSError?
    {
        do {
            _ = try await client.json(
                "CreateGrant", targetPrefix: "TrentService",
                ["KeyId": keyId, "GranteePrincipal": grantee, "Operations": operations, "DryRun": true])
            return AWSError(
                code: "DryRunIgnored", message: "CreateGrant with DryRun created a grant or was not checked",
                httpStatus: 200, service: "kms", action: "CreateGrant")
        } catch let error as AWSError where error.code == "DryRunOperationException" {
            return nil
        } catch let error as AWSError where error.isAccessDenied || error.httpStatus == 400 {
            return error
        }
    }
}
