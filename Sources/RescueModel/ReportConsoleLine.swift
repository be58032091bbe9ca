#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The report as one console line, `KEYRESCUE-REPORT v1 <base64 of the JSON>`, so the controller
/// can recover it from GetConsoleOutput when the upload failed. Base64 keeps it on one line and
/// safe from the console's character mangling.
public enum ReportConsoleLine {
    public static let marker = "KEYRESCUE-REPORT"

    public static func render(_ report: RescueReport) throws(WireFormatError) -> String {
        let json = try WireFormat.encode(report)
        return "\(marker) v\(report.version) \(Data(json).base64EncodedString())"
    }

    /// The last readable report line in arbitrary console text (timestamps, prefixes, CRLF, other
    /// programs' output around it). A truncated last line falls back to an earlier complete one.
    public static func find(in console: String) throws(WireFormatError) -> RescueReport {
        var firstProblem: WireFormatError?
        let lines = console.split(omittingEmptySubsequences: true) { $0.isNewline }  // "\r\n" is one Character
        for line in lines.reversed() {
            guard let candidate = candidate(in: line) else { continue }
            do {
                return try decode(candidate)
            } catch {
                if firstProblem == nil { firstProblem = error }
            }
        }
        throw firstProblem ?? .noReportLine
    }

    private static func candidate(in line: Substring) -> (version: Substring, payload: Substring)? {
        guard let range = line.ranges(of: marker + " ").last else { return nil }
        let fields = line[range.upperBound...].split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard fields.count >= 2 else { return nil }
        return (fields[0], fields[1])
    }

    private static func decode(_ candidate: (version: Substring, payload: Substring)) throws(WireFormatError)
        -> RescueReport
    {
        guard candidate.version.first == "v", let found = Int(candidate.version.dropFirst()) else {
            throw .malformed("the \(marker) line has no version (expected v\(WireFormat.version))")
        }
        guard found == WireFormat.version else {
            throw .unsupportedVersion(what: "console report", found: found, supported: WireFormat.version)
        }
        guard let json = Data(base64Encoded: String(candidate.payload)) else {
            throw .malformed("the \(marker) line is cut or garbled (its base64 does not decode)")
        }
        return try WireFormat.decodeReport(json)
    }
}
