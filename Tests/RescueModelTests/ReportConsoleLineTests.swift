import RescueModel
import Testing

@Suite struct ReportConsoleLineTests {
    @Test func lineIsOneLineWithMarkerAndVersion() throws {
        let line = try ReportConsoleLine.render(WireFormatTests.sampleReport())
        #expect(line.hasPrefix("KEYRESCUE-REPORT v1 "))
        #expect(!line.contains("\n"))
    }

    @Test func findsReportAmidConsoleNoise() throws {
        let report = WireFormatTests.sampleReport()
        let line = try ReportConsoleLine.render(report)
        let console = """
            [    0.000000] Linux version 6.1.0\r
            [   12.345678] cloud-init[812]: \(line)\r
            Amazon Linux 2023\r
            login:
            """
        #expect(try ReportConsoleLine.find(in: console) == report)
    }

    @Test func lastCompleteLineWins() throws {
        var first = WireFormatTests.sampleReport()
        first.runID = "first"
        var second = first
        second.runID = "second"
        let a = try ReportConsoleLine.render(first)
        let b = try ReportConsoleLine.render(second)
        #expect(try ReportConsoleLine.find(in: "\(a)\n\(b)\n").runID == "second")
        // A cut-off last line falls back to the earlier complete one.
        let cut = String(b.prefix(b.count / 2))
        #expect(try ReportConsoleLine.find(in: "\(a)\n\(cut)").runID == "first")
    }

    @Test func noLineIsAClearError() {
        #expect(throws: WireFormatError.noReportLine) { try ReportConsoleLine.find(in: "boot\nlogin:\n") }
        #expect(throws: WireFormatError.noReportLine) { try ReportConsoleLine.find(in: "") }
        #expect(throws: WireFormatError.noReportLine) { try ReportConsoleLine.find(in: "KEYRESCUE-REPORT v1") }
    }

    @Test func garbledOrFutureLinesAreRefused() {
        #expect(throws: WireFormatError.unsupportedVersion(what: "console report", found: 2, supported: 1)) {
            try ReportConsoleLine.find(in: "KEYRESCUE-REPORT v2 e30=")
        }
        #expect {
            try ReportConsoleLine.find(in: "KEYRESCUE-REPORT v1 !!!notbase64")
        } throws: { error in
            guard case .malformed = error as? WireFormatError else { return false }
            return true
        }
    }
}
