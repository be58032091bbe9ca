import Foundation
import Testing

@testable import RescueController

@Suite struct DiagnoseJudgementTests {
    static let routes = RouteJudgement.report(RouteJudgementTests.facts())
    static let openSSH = IngressRule(ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrs: ["0.0.0.0/0"])

    static func facts(_ change: (inout DiagnoseFacts) -> Void = { _ in }) -> DiagnoseFacts {
        var facts = DiagnoseFacts(
            stateName: "running", instanceStatus: "ok", systemStatus: "ok", keyName: "old",
            keyMatch: .noMatch(checked: 2),
            ingress: [openSSH],
            aclEntries: [
                ACLEntry(ruleNumber: 100, ipProtocol: "-1", allow: true, cidr: "0.0.0.0/0", fromPort: nil, toPort: nil)
            ],
            routeToInternet: true, publicAddress: "203.0.113.10", routes: routes)
        change(&facts)
        return facts
    }

    func kind(_ change: (inout DiagnoseFacts) -> Void) -> DiagnoseVerdict.Kind {
        DiagnoseJudgement.verdict(Self.facts(change)).kind
    }

    @Test func aWrongKeyIsTheKey() {
        let verdict = DiagnoseJudgement.verdict(Self.facts())
        #expect(verdict.kind == .key)
        #expect(verdict.text.hasPrefix("probably the key"))
    }

    @Test func theInstanceComesFirst() {
        #expect(kind { $0.stateName = "stopped" } == .instance)
        #expect(kind { $0.systemStatus = "impaired" } == .instance)
        #expect(kind { $0.consoleErrors = ["sshd.service: Failed with result 'exit-code'."] } == .instance)
        #expect(
            DiagnoseJudgement.verdict(Self.facts { $0.stateName = "stopped" }).text
                == "the instance is not healthy: it is stopped")
    }

    @Test func aSecurityGroupWithoutPort22IsTheNetwork() {
        let verdict = DiagnoseJudgement.verdict(
            Self.facts {
                $0.ingress = [IngressRule(ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrs: ["0.0.0.0/0"])]
            })
        #expect(verdict.kind == .network)
        #expect(verdict.text.contains("no security group rule allows port 22 from 0.0.0.0/0"))
    }

    @Test func fromCIDRIsCheckedAgainstTheRules() {
        let office = IngressRule(ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrs: ["198.51.100.0/24"])
        #expect(
            kind {
                $0.ingress = [office]; $0.from = "198.51.100.7/32"
            } == .key)
        #expect(
            kind {
                $0.ingress = [office]; $0.from = "203.0.113.7/32"
            } == .network)
        // From anywhere, a narrower rule cannot be judged: say so, do not blame the network.
        guard case .cannotTell(let why) = DiagnoseJudgement.sshPort(Self.facts { $0.ingress = [office] }) else {
            Issue.record("a rule for one range cannot be judged without --from")
            return
        }
        #expect(why.contains("--from"))
        #expect(
            kind { $0.ingress = [IngressRule(ipProtocol: "-1", fromPort: nil, toPort: nil, cidrs: ["0.0.0.0/0"])] }
                == .key)
    }

    @Test func theFirstACLRuleByNumberDecides() {
        let deny = ACLEntry(ruleNumber: 50, ipProtocol: "6", allow: false, cidr: "0.0.0.0/0", fromPort: 22, toPort: 22)
        #expect(kind { $0.aclEntries?.append(deny) } == .network)
        let laterDeny = ACLEntry(
            ruleNumber: 200, ipProtocol: "6", allow: false, cidr: "0.0.0.0/0", fromPort: 22, toPort: 22)
        #expect(kind { $0.aclEntries?.append(laterDeny) } == .key)
    }

    @Test func noPublicAddressOrRouteIsTheNetwork() {
        #expect(DiagnoseJudgement.verdict(Self.facts { $0.publicAddress = nil }).text.contains("no public IP"))
        #expect(kind { $0.routeToInternet = false } == .network)
        #expect(
            kind {
                $0.publicAddress = nil; $0.from = "10.0.0.5/32"
            } == .key)
    }

    @Test func aMatchingKeyAndOpenNetworkIsUnknown() {
        #expect(kind { $0.keyMatch = .matches(path: "/h/.ssh/id.pub") } == .unknown)
    }

    @Test func consoleErrorsKeepTheLastSshdAndCloudInitLines() {
        let console = """
            [  OK  ] Started OpenSSH server daemon.
            cloud-init[800]: Cloud-init v. 22.2 finished
            Authentication refused: bad ownership or modes for directory /home/ec2-user/.ssh
            cloud-init[801]: 2024 - util.py[WARNING]: ERROR writing /var/lib/cloud: No space left on device
            """
        let errors = DiagnoseJudgement.consoleErrors(console)
        #expect(errors.count == 2)
        #expect(errors.first?.contains("bad ownership") == true)
        #expect(errors.last?.contains("No space left") == true)
    }

    @Test func theReportCarriesStateRoutesChosenAndVerdict() throws {
        let report = DiagnoseReport(instanceID: "i-1", facts: Self.facts())
        let json = try report.json()
        for key in [
            "\"state\"", "\"routes\"", "\"instanceConnect\"", "\"swap\"", "\"chosen\" : \"ssm\"", "\"kind\" : \"key\"",
            "\"open\" : true",
        ] {
            #expect(json.contains(key), "missing \(key)")
        }
        #expect(report.human.contains("ssm: chosen: online SSM managed node"))
        let routes =
            try #require(
                try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])["routes"] as? [String: Any]
        #expect(Set(routes?.keys.map { $0 } ?? []) == ["ssm", "instanceConnect", "swap"])
    }

    @Test func cidrContainment() {
        #expect(CIDR.contains("0.0.0.0/0", "203.0.113.7/32"))
        #expect(CIDR.contains("10.0.0.0/8", "10.1.0.0/16"))
        #expect(!CIDR.contains("10.1.0.0/16", "10.0.0.0/8"))
        #expect(!CIDR.contains("10.0.0.0/8", "not-a-cidr"))
        #expect(CIDRText.isValid("203.0.113.7/32") && !CIDRText.isValid("300.1.1.1/32"))
    }
}

@Suite struct DoorsIAMTests {
    @Test func sendCommandIsLimitedToRunShellScriptAndInstances() throws {
        let statements = DoorsIAM.statements(osUsers: ["ubuntu", "ec2-user", "ubuntu"])
        let send = try #require(statements.first { $0.actions == ["ssm:SendCommand"] })
        #expect(send.resources == ["arn:aws:ssm:*::document/AWS-RunShellScript", "arn:aws:ec2:*:*:instance/*"])
        let connect = try #require(statements.first { $0.actions == ["ec2-instance-connect:SendSSHPublicKey"] })
        #expect(
            connect.conditions == [IAMPolicy.Condition("StringEquals", "ec2:osuser", values: ["ec2-user", "ubuntu"])])
        #expect(DoorsIAM.statements().last?.conditions.isEmpty == true)
        let all = Set(statements.flatMap(\.actions))
        #expect(all == Set(DoorsIAM.actions.values.flatMap { $0 }))
    }

    /// deploy/iam-policy.json (the generator's output, IAMPolicy.doors) grants each door statement as written here.
    @Test func theDeployedPolicyHoldsTheDoorStatements() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../../deploy/iam-policy.json")
        let policy = try JSONSerialization.jsonObject(with: Data(contentsOf: url.standardizedFileURL)) as? [String: Any]
        let statements = policy?["Statement"] as? [[String: Any]] ?? []
        for door in DoorsIAM.statements() {
            let deployed = statements.first { $0["Sid"] as? String == door.sid }
            let actions = deployed?["Action"] as? [String] ?? (deployed?["Action"] as? String).map { [$0] }
            #expect(actions == door.actions, "\(door.sid)")
            let resources = deployed?["Resource"] as? [String] ?? (deployed?["Resource"] as? String).map { [$0] }
            #expect(resources == door.resources, "\(door.sid)")
        }
    }
}
