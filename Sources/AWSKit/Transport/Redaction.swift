import Foundation

/// What may be logged of a request: never credentials or signatures.
enum Redaction {
    static let secretHeaders: Set<String> = ["authorization", "x-amz-security-token", "x-amz-signature"]
    static let secretQueryNames: Set<String> = [
        "x-amz-signature", "x-amz-security-token", "x-amz-credential", "signature",
    ]

    /// `name: value` lines with secret values replaced.
    static func headers(_ headers: [HTTPHeader]) -> String {
        headers.map {
            secretHeaders.contains($0.name.lowercased()) ? "\($0.name): <redacted>" : "\($0.name): \($0.value)"
        }
        .joined(separator: ", ")
    }

    /// The URL with secret query values replaced (presigned URLs carry signature and token).
    static func url(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false),
            let items = components.queryItems, !items.isEmpty
        else { return url.absoluteString }
        components.queryItems = items.map {
            secretQueryNames.contains($0.name.lowercased()) ? URLQueryItem(name: $0.name, value: "redacted") : $0
        }
        return components.url?.absoluteString ?? "<url>"
    }
}
