import AWSKit
import Foundation

/// The I/O shell of `keyrescue diagnose`: Describe calls and the console only, nothing changes.
public struct DiagnoseReader: Sendable {
    public let aws: AWSClient
    public init(aws: AWSClient) { self.aws = aws }

    /// `publicKeys` are the (path, contents) of `~/.ssh/*.pub`; `from` is `--from CIDR`.
    public func report(instanceID: String, from: String?, user: String?, publicKeys: [(path: String, contents: String)])
        async throws -> DiagnoseReport
    {
        guard let instance = try await aws.ec2.describeInstances(ids: [instanceID]).first else {
            throw ControllerError.instanceNotFound(instanceID, region: aws.region)
        }
        let routes = RouteJudgement.report(
            try await RouteReader(aws: aws).facts(instance: instance, user: user, swapRefusal: nil))
        var fingerprint: String?
        if let name = instance.keyName { fingerprint = (try? await aws.ec2.keyPairFingerprint(name: name)) ?? nil }
        var facts = DiagnoseFacts(
            stateName: instance.state.rawValue, keyName: instance.keyName,
            keyMatch: KeyMatch.of(ec2Fingerprint: fingerprint, publicKeys: publicKeys),
            ingress: ((try? await aws.ec2.ingressPermissions(groupIds: instance.securityGroupIds)) ?? []).map {
                IngressRule(
                    ipProtocol: $0.ipProtocol, fromPort: $0.fromPort, toPort: $0.toPort, cidrs: $0.cidrs,
                    hasOtherSources: $0.otherSources)
            },
            from: from, publicAddress: instance.publicIpAddress, routes: routes)
        if let checks = try? await aws.ec2.statusChecks(instanceId: instanceID) {
            facts.instanceStatus = checks.instance
            facts.systemStatus = checks.system
        }
        if let subnet = instance.subnetId {
            facts.aclEntries = (try? await aws.ec2.networkACLEntries(subnetId: subnet))?.map {
                ACLEntry(
                    ruleNumber: $0.ruleNumber, ipProtocol: $0.ipProtocol, allow: $0.allow, cidr: $0.cidr,
                    fromPort: $0.fromPort, toPort: $0.toPort, egress: $0.egress)
            }
            facts.routeToInternet = try? await routeToInternet(subnet: subnet, vpc: instance.vpcId)
        }
        if let ip = instance.publicIpAddress {
            facts.elasticIP = !((try? await aws.ec2.describeAddresses(publicIps: [ip])) ?? []).isEmpty
        }
        if let console = try? await aws.ec2.getConsoleOutput(instanceId: instanceID, latest: false) {
            facts.consoleErrors = DiagnoseJudgement.consoleErrors(console)
        }
        return DiagnoseReport(instanceID: instanceID, facts: facts)
    }

    func routeToInternet(subnet: String, vpc: String?) async throws -> Bool {
        try await aws.ec2.routeTables(subnet: subnet, vpc: vpc).contains { table in
            table.routes.contains {
                $0.state != "blackhole" && $0.destinationCidrBlock == "0.0.0.0/0"
                    && ($0.gatewayId ?? "").hasPrefix("igw-")
            }
        }
    }

    /// `~/.ssh/*.pub`, read for fingerprints.
    public static func localPublicKeys(home: String) -> [(path: String, contents: String)] {
        let dir = URL(fileURLWithPath: home).appendingPathComponent(".ssh")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".pub") }.sorted().compactMap { name in
            let path = dir.appendingPathComponent(name).path
            return (try? String(contentsOfFile: path, encoding: .utf8)).map { (path: path, contents: $0) }
        }
    }
}
