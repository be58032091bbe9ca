import Foundation

/// A service's error answer: what it means, and the words for it.
extension AWSError {
    /// `ec2:RunInstances`: the IAM action this call needs.
    public var iamAction: String { "\(service):\(action)" }

    public var isAccessDenied: Bool {
        // Not AuthFailure: EC2 says that when it cannot validate the credentials (a wrong secret, a
        // mangled signature), which no policy change fixes.
        ["UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "UnauthorizedAccess"].contains(code)
    }

    /// EC2's `DryRunOperation`: the call would have succeeded (the permission is granted).
    public var isDryRunSuccess: Bool { code == "DryRunOperation" }

    /// The opaque blob EC2 appends to `UnauthorizedOperation` messages; STS DecodeAuthorizationMessage
    /// turns it into the policy evaluation that denied the call.
    public var encodedAuthorizationMessage: String? {
        guard let range = message.range(of: "Encoded authorization failure message:") else { return nil }
        let blob = message[range.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
        return blob.isEmpty ? nil : blob
    }

    public var isThrottling: Bool { RetryClassifier.throttlingCodes.contains(code) }

    var serviceDescription: String {
        var text = "\(service) \(action) failed: \(code)"
        if !message.isEmpty { text += ": \(message)" }
        text += " (HTTP \(httpStatus)\(requestId.map { ", request id \($0)" } ?? "")"
        text += attempts > 1 ? ", after \(attempts) attempts)." : ")."
        if isAccessDenied {
            text +=
                " Your credentials lack the IAM permission \(iamAction): add it to the policy of the user or role you use (see deploy/iam-policy.json)."
            if encodedAuthorizationMessage != nil {
                text +=
                    " To see which policy denied it, run `aws sts decode-authorization-message --encoded-message <the message above>` (needs sts:DecodeAuthorizationMessage)."
            }
        } else if isThrottling {
            text += " AWS is throttling your account's API calls; wait a minute and try again."
        } else if code == "SignatureDoesNotMatch" || code == "InvalidClientTokenId" || code == "AuthFailure"
            || code == "InvalidAccessKeyId"
        {
            text += " Check your access key and secret (aws configure list), and your clock."
        } else if code == "ExpiredToken" || code == "RequestExpired" {
            text += " Your temporary credentials expired: sign in again (aws sso login, or refresh the session)."
        }
        return text
    }
}
