import AWSKit
import Foundation

/// One denied DryRun probe, worded so the user sees which permission or tag is missing rather
/// than only a pointer to deploy/iam-policy.json.
public enum PermissionDenial {
    /// `decoded`: STS DecodeAuthorizationMessage's JSON when the caller may call it; nil otherwise.
    public static func describe(action: String, error: AWSError, decoded: String?, tags: [Tag]) -> String {
        var text = "\(action) (\(error.code))"
        guard error.encodedAuthorizationMessage != nil else { return text }
        if let decoded, let detail = summary(decoded) {
            text += ": \(detail)"
        } else {
            text +=
                ": the reason is encoded; read it with `aws sts decode-authorization-message --encoded-message …`"
                + " (needs sts:DecodeAuthorizationMessage)"
        }
        // An encoded message is what a service control policy or a tag condition answers with.
        if tags.isEmpty { text += "; if your organisation requires tags on new resources, pass --tag KEY=VALUE" }
        return text
    }

    /// What the decoded policy evaluation says was denied: the action, resource, and any untagged
    /// resource types or condition keys it names.
    static func summary(_ decoded: String) -> String? {
        guard let data = decoded.data(using: .utf8),
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        let context = root["context"] as? [String: Any] ?? [:]
        var parts: [String] = []
        if let untagged = context["untaggedResourceTypes"] as? [String], !untagged.isEmpty {
            parts.append("a required tag is missing on \(untagged.joined(separator: ", "))")
        }
        if let resource = context["resource"] as? String { parts.append("resource \(resource)") }
        if root["explicitDeny"] as? Bool == true { parts.append("an explicit deny (SCP or permissions boundary)") }
        if let conditions = context["conditions"] as? [String: Any], let items = conditions["items"] as? [[String: Any]]
        {
            let keys = items.compactMap { $0["key"] as? String }.filter { $0.contains("Tag") }
            if !keys.isEmpty { parts.append("tag condition keys \(keys.joined(separator: ", "))") }
        }
        return parts.isEmpty ? decoded : parts.joined(separator: "; ")
    }
}
