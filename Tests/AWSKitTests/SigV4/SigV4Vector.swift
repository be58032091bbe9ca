import Foundation

/// One vector of shared/sigv4/vectors.json (made by botocore through make_vectors.py).
struct SigV4Vector: Decodable, Sendable {
    struct Request: Decodable, Sendable {
        var method: String
        var url: String
        var headers: [String: String]
        var bodyBase64: String
    }
    struct Expect: Decodable, Sendable {
        var canonicalRequest: String
        var stringToSign: String
        var signature: String
        var headers: [String: String]?
        var url: String?
    }
    var name: String
    var kind: String
    var service: String
    var region: String
    var accessKeyId: String
    var secretAccessKey: String
    var sessionToken: String?
    var timestamp: String
    var expiresSeconds: Int?
    var request: Request
    var expect: Expect

    /// `20261123T123600Z` as a Date.
    var date: Date {
        get throws {
            let style = Date.ISO8601FormatStyle(
                dateSeparator: .omitted, dateTimeSeparator: .standard, timeSeparator: .omitted)
            return try style.parse(timestamp)
        }
    }

    /// The vector file: `KEYRESCUE_SIGV4_VECTORS` when set (larger sets from
    /// `Tests/Fixtures/sigv4/make_vectors.py --seed N --random M`), else the checked-in
    /// `Tests/Fixtures/sigv4/vectors.json` (made by botocore, the reference signer).
    static var fileURL: URL {
        if let path = ProcessInfo.processInfo.environment["KEYRESCUE_SIGV4_VECTORS"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        // #filePath is <root>/Tests/AWSKitTests/SigV4/SigV4Vector.swift.
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("Tests/Fixtures/sigv4/vectors.json")
    }

    struct Missing: Error, CustomStringConvertible {
        let url: URL
        var description: String {
            "SigV4 vectors not found at \(url.path): restore Tests/Fixtures/sigv4/vectors.json or set KEYRESCUE_SIGV4_VECTORS"
        }
    }

    static func loadAll() throws -> [SigV4Vector] {
        let url = fileURL
        guard FileManager.default.fileExists(atPath: url.path) else { throw Missing(url: url) }
        return try JSONDecoder().decode([SigV4Vector].self, from: Data(contentsOf: url))
    }
}
