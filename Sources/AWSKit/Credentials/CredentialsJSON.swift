import Foundation

/// Decodes the credential documents the chain receives, with `Expiration` as ISO 8601.
enum CredentialsJSON {
    /// `{"AccessKeyId","SecretAccessKey","Token"|"SessionToken","Expiration"}` — the shape of
    /// IMDS, container endpoints and credential_process (`Version: 1`).
    static func decode(_ data: Data, source: String) throws -> Credentials {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw AWSError.credentials("\(source) did not return a JSON object")
        }
        guard let id = object["AccessKeyId"] as? String, !id.isEmpty,
            let secret = object["SecretAccessKey"] as? String, !secret.isEmpty
        else { throw AWSError.credentials("\(source) returned no AccessKeyId/SecretAccessKey") }
        let token = (object["Token"] as? String) ?? (object["SessionToken"] as? String)
        var expiration: Date?
        if let text = object["Expiration"] as? String {
            guard let date = parseDate(text) else {
                throw AWSError.credentials("\(source) returned an unreadable Expiration \"\(text)\"")
            }
            expiration = date
        }
        return Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token, expiration: expiration)
    }

    /// ISO 8601 with or without fractional seconds, `Z`, an offset, or the `UTC` older CLIs wrote.
    static func parseDate(_ text: String) -> Date? {
        var text = text.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("UTC") { text = String(text.dropLast(3)) + "Z" }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }

    static func formatDate(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }
}
