import Testing

@testable import RescueController

@Suite struct RouteJudgementTests {
    static let al2023 = ImageLogin.of(
        name: "al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64", description: nil, platformDetails: "Linux/UNIX")
    static let debian = ImageLogin.of(
        name: "debian-12-amd64-20240717-1811", description: "Debian 12 (20240717-1811)", platformDetails: "Linux/UNIX")

    static func facts(_ change: (inout RouteFacts) -> Void = { _ in }) -> RouteFacts {
        var facts = RouteFacts(
            running: true, stateName: "running", ssm: .listed(pingStatus: "Online", platformType: "Linux"),
            image: al2023,
            reachableAddress: "203.0.113.10")
        change(&facts)
        return facts
    }

    @Test func autoPrefersSSMThenInstanceConnectThenSwap() {
        #expect(RouteJudgement.report(Self.facts()).chosen == .ssm)
        #expect(RouteJudgement.report(Self.facts { $0.ssm = .unknown }).chosen == .instanceConnect)
        #expect(
            RouteJudgement.report(
                Self.facts {
                    $0.ssm = .unknown; $0.image = Self.debian
                }
            ).chosen == .swap)
    }

    @Test func everyDoorTriedInOrderThenTheSwap() {
        let report = RouteJudgement.report(Self.facts())
        #expect(report.attempts(for: .auto) == [.ssm, .instanceConnect, .swap])
        #expect(report.attempts(for: .instanceConnect) == [.instanceConnect])
    }

    @Test func unknownPermissionsAreSaidSo() {
        let report = RouteJudgement.report(Self.facts())
        #expect(report.ssm.open && report.ssm.why.contains("ssm:SendCommand unknown until tried"))
        #expect(report.instanceConnect.why.contains("ec2-instance-connect:SendSSHPublicKey unknown until tried"))
        #expect(!RouteJudgement.report(Self.facts { $0.sendCommand = .granted }).ssm.why.contains("unknown"))
    }

    @Test(arguments: [
        (SSMStanding.unknown, "not an online SSM managed node"),
        (.listed(pingStatus: "ConnectionLost", platformType: "Linux"), "ping status ConnectionLost"),
        (.listed(pingStatus: "Online", platformType: "Windows"), "Windows, not Linux"),
        (.denied(awsCode: "AccessDeniedException"), "permission ssm:DescribeInstanceInformation missing"),
        (.unreadable(awsCode: "InvalidAction"), "Systems Manager could not be asked"),
    ])
    func ssmClosed(standing: SSMStanding, why: String) {
        let verdict = RouteJudgement.report(Self.facts { $0.ssm = standing }).ssm
        #expect(!verdict.open)
        #expect(verdict.why.contains(why))
    }

    @Test func missingPermissionClosesTheRouteWithoutAnError() {
        let report = RouteJudgement.report(
            Self.facts {
                $0.sendCommand = .denied; $0.sendSSHPublicKey = .denied
            })
        #expect(report.ssm.why == "not open (permission ssm:SendCommand missing)")
        #expect(report.instanceConnect.why == "not open (permission ec2-instance-connect:SendSSHPublicKey missing)")
        #expect(report.chosen == .swap)
    }

    @Test func instanceConnectNeedsThePackageAUserAndAnAddress() {
        #expect(RouteJudgement.report(Self.facts { $0.image = Self.debian }).instanceConnect.why.contains("Debian"))
        let unknownImage = ImageLogin.of(name: "my-golden-image", description: nil, platformDetails: "Linux/UNIX")
        #expect(!RouteJudgement.report(Self.facts { $0.image = unknownImage }).instanceConnect.open)
        #expect(
            RouteJudgement.report(Self.facts { $0.reachableAddress = nil }).instanceConnect.why.contains(
                "no reachable address"))
        #expect(RouteJudgement.report(Self.facts { $0.user = "deploy" }).instanceConnect.why.contains("ssh as deploy"))
    }

    @Test func aStoppedInstanceHasOnlyTheSwap() {
        let report = RouteJudgement.report(
            Self.facts {
                $0.running = false; $0.stateName = "stopped"
            })
        #expect(!report.ssm.open && !report.instanceConnect.open && report.chosen == .swap)
        #expect(report.ssm.why.contains("stopped"))
    }

    @Test func aClosedMethodIsRefusedWithExitThreeAndWhy() throws {
        let facts = Self.facts { $0.ssm = .unknown }
        let report = RouteJudgement.report(facts, method: .ssm)
        #expect(report.chosen == nil)
        let error = try #require(RouteJudgement.refusal(report, method: .ssm))
        #expect(error.exitStatus == .refused)
        #expect(error.message.contains("--method ssm: not an online SSM managed node"))
        #expect(RouteJudgement.refusal(RouteJudgement.report(facts, method: .auto), method: .auto) == nil)
        #expect(
            RouteJudgement.refusal(RouteJudgement.report(facts, method: .instanceConnect), method: .instanceConnect)
                == nil)
    }

    @Test func aRefusedSwapLeavesNothingForAuto() {
        let report = RouteJudgement.report(
            Self.facts {
                $0.ssm = .unknown; $0.image = Self.debian; $0.swapRefusal = "instance store root"
            })
        #expect(report.chosen == nil)
        #expect(report.swap == .closed("instance store root"))
    }
}

@Suite struct ImageLoginTests {
    @Test(
        arguments: [
            ("al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64", nil, "ec2-user", true),
            ("amzn2-ami-kernel-5.10-hvm-2.0.20240916.0-x86_64-gp2", nil, "ec2-user", true),
            ("ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240927", nil, "ubuntu", true),
            ("ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-20240918", nil, "ubuntu", true),
            ("ubuntu/images/hvm-ssd/ubuntu-bionic-18.04-amd64-server-20230531", nil, "ubuntu", false),
            ("debian-12-amd64-20240717-1811", "Debian 12", "admin", false),
            ("RHEL-9.4.0_HVM-20240605-x86_64-82-Hourly2-GP3", "Provided by Red Hat", "ec2-user", false),
            ("Rocky-9-EC2-Base-9.4-20240523.0.x86_64", nil, "rocky", false),
        ] as [(String, String?, String, Bool)])
    func customaryUser(name: String, description: String?, user: String, instanceConnect: Bool) {
        let login = ImageLogin.of(name: name, description: description, platformDetails: "Linux/UNIX")
        #expect(login.user == user)
        #expect(login.hasInstanceConnect == instanceConnect)
    }

    @Test func anUnknownImageHasNoUser() {
        #expect(ImageLogin.of(name: "golden-2024", description: "ours", platformDetails: "Linux/UNIX").user == nil)
    }
}
