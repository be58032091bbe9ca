#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Version of the job and report documents exchanged by the controller and the agent.
/// Bump when a field changes meaning; readers refuse versions they do not know.
public enum WireFormat {
    public static let version = 1

    /// Encodes a job or report as compact JSON with sorted keys (stable bytes for tests and hashes).
    public static func encode<T: Encodable>(_ value: T) throws(WireFormatError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw .malformed("cannot encode \(T.self): \(error)")
        }
    }

    /// Reads a job. The version is checked before anything else, so a newer controller's
    /// job is refused with a clear message instead of a confusing field error.
    public static func decodeJob(_ bytes: some Collection<UInt8>) throws(WireFormatError) -> RescueJob {
        try decodeVersioned(RescueJob.self, from: bytes, what: "job")
    }

    /// Reads a report; same version rule as `decodeJob`.
    public static func decodeReport(_ bytes: some Collection<UInt8>) throws(WireFormatError) -> RescueReport {
        try decodeVersioned(RescueReport.self, from: bytes, what: "report")
    }

    private struct VersionProbe: Decodable {
        let version: Int?
    }

    static func decodeVersioned<T: Decodable>(
        _ type: T.Type, from bytes: some Collection<UInt8>, what: String
    ) throws(WireFormatError) -> T {
        let data = Data(bytes)
        let decoder = JSONDecoder()
        let probe: VersionProbe
        do {
            probe = try decoder.decode(VersionProbe.self, from: data)
        } catch {
            throw .malformed("the \(what) is not a JSON object: \(error)")
        }
        guard let found = probe.version else { throw .missingVersion(what: what) }
        guard found == version else { throw .unsupportedVersion(what: what, found: found, supported: version) }
        do {
            return try decoder.decode(T.self, from: data)
        } catch {
            throw .malformed("the \(what) (version \(found)) has a bad field: \(describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        switch decoding {
        case .keyNotFound(let key, let context):
            return "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(decoding)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty
            ? "(top level)" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// Why a job or report could not be read.
public enum WireFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case missingVersion(what: String)
    case unsupportedVersion(what: String, found: Int, supported: Int)
    case noReportLine

    public var description: String {
        switch self {
        case .malformed(let detail):
            return detail
        case .missingVersion(let what):
            return "the \(what) has no \"version\" field; it was not written by keyrescue"
        case .unsupportedVersion(let what, let found, let supported):
            return "the \(what) has format version \(found), this program reads only version \(supported): "
                + "use the same keyrescue release for the controller and the agent"
        case .noReportLine:
            return "no \(ReportConsoleLine.marker) line in the console output"
        }
    }
}
