import ArgumentParser
import Foundation
import RescueController

struct Diagnose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Why ssh fails, without changing anything: state, key pair, port 22, ACL, route, console, open routes.")
    @Argument(help: "The instance (i-…).") var instanceID: String
    @Option(help: "Check port 22 from this CIDR (your address, e.g. 203.0.113.7/32) instead of from anywhere.")
    var from: String?
    @Option(help: "The login user (else the image's customary user).") var user: String?
    @Flag(help: "Print the report as JSON.") var json = false
    @OptionGroup var aws: AWSOptions

    func validate() throws {
        if let from, !CIDRText.isValid(from) {
            throw ValidationError("--from \(from) is not an IPv4 CIDR; give e.g. 203.0.113.7/32")
        }
    }

    func run() async throws {
        try await exitOnFailure(.beforeChange) {
            let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
            let report = try await DiagnoseReader(aws: try await aws.client()).report(
                instanceID: instanceID, from: from, user: user, publicKeys: DiagnoseReader.localPublicKeys(home: home))
            say(json ? try report.json() : report.human)
        }
    }
}
