import Foundation

/// ECS/EKS/CodeBuild container credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on
/// 169.254.170.2) or `AWS_CONTAINER_CREDENTIALS_FULL_URI` (https anywhere; plain http only to a
/// loopback or the container agents' link-local addresses), with the Authorization header from
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read at every call) or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
public struct ContainerCredentialProvider: CredentialProvider, CustomStringConvertible {
    public let url: URL
    let authorizationToken: String?
    let authorizationTokenFile: String?
    let transport: any HTTPTransport

    public init(url: URL, authorizationToken: String?, authorizationTokenFile: String?, transport: any HTTPTransport) {
        self.url = url
        self.authorizationToken = authorizationToken
        self.authorizationTokenFile = authorizationTokenFile
        self.transport = transport
    }

    /// The provider the environment asks for, nil when neither URI variable is set.
    public static func fromEnvironment(_ env: [String: String], transport: any HTTPTransport) throws
        -> ContainerCredentialProvider?
    {
        let url: URL
        if let relative = env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            guard let u = URL(string: "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative))
            else {
                throw AWSError.credentials("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a valid path")
            }
            url = u
        } else if let full = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            guard let u = URL(string: full), let host = u.host else {
                throw AWSError.credentials("AWS_CONTAINER_CREDENTIALS_FULL_URI is not a valid URL")
            }
            guard u.scheme == "https" || (u.scheme == "http" && allowedHTTPHosts(host)) else {
                throw AWSError.credentials(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback address or 169.254.170.2/169.254.170.23"
                )
            }
            url = u
        } else {
            return nil
        }
        return ContainerCredentialProvider(
            url: url, authorizationToken: env["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
            authorizationTokenFile: env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], transport: transport)
    }

    static func allowedHTTPHosts(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
            || bare == "169.254.170.2" || bare == "169.254.170.23" || bare == "fd00:ec2::23"
    }

    public func credentials() async throws -> Credentials {
        var request = HTTPRequest(method: "GET", url: url, headers: [HTTPHeader("Accept", "application/json")])
        if let file = authorizationTokenFile, !file.isEmpty {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw AWSError.credentials("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file)")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            request.headers.append(HTTPHeader("Authorization", token))
        } else if let token = authorizationToken, !token.isEmpty {
            request.headers.append(HTTPHeader("Authorization", token))
        }
        let source = "the container credentials endpoint \(url.absoluteString)"
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            throw AWSError.credentials("cannot reach \(source): \(error)")
        }
        guard response.status == 200 else { throw AWSError.credentials("\(source) answered HTTP \(response.status)") }
        return try CredentialsJSON.decode(response.body, source: source)
    }

    public var description: String { "container credentials from \(url.absoluteString)" }
}
