import RescueAgent
import RescueModel
import Testing

@Suite struct LoginUserChoiceTests {
    static let passwd = AccountFiles.parsePasswd(
        """
        root:x:0:0:root:/root:/bin/bash
        sshd:x:74:74::/var/empty/sshd:/sbin/nologin
        ec2-user:x:1000:1000::/home/ec2-user:/bin/bash
        alice:x:1001:1001::/home/alice:/bin/zsh
        svc:x:1002:1002::/home/svc:/usr/sbin/nologin
        nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin
        """
    ).entries
    static let noCloudInit = CloudInitUsers(defaultUserName: nil, users: nil, usersIncludesDefault: false)

    func choose(
        _ override: String? = nil, cloud: CloudInitUsers = noCloudInit, distro: String? = nil,
        passwd: [PasswdEntry] = passwd
    ) throws -> ChosenUser {
        try LoginUserChoice.choose(override: override, cloudInit: cloud, distroID: distro, passwd: passwd)
    }

    @Test func overrideWinsButMustExist() throws {
        #expect(try choose("alice", distro: "amzn").entry.name == "alice")
        #expect(try choose("root").reason == .override)
        #expect {
            try choose("bob")
        } throws: { error in
            let failure = error as? RescueReport.Failure
            return failure?.code == .userNotFound && failure?.candidates == ["ec2-user", "alice"]
                && failure?.message.contains("not in the target's /etc/passwd") == true
        }
    }

    @Test func cloudInitThenTable() throws {
        let cloud = CloudInitUsers(defaultUserName: "alice", users: nil, usersIncludesDefault: false)
        #expect(try choose(cloud: cloud, distro: "amzn").entry.name == "alice")
        let ghost = CloudInitUsers(defaultUserName: "ubuntu", users: nil, usersIncludesDefault: false)
        let chosen = try choose(cloud: ghost, distro: "amzn")
        #expect(chosen.entry.name == "ec2-user" && chosen.reason == .distroTable && chosen.notes.count == 1)
    }

    @Test func tableAlternativesAndOnlyHuman() throws {
        #expect(try choose(distro: "fedora").entry.name == "ec2-user")
        let single = Array(Self.passwd.filter { $0.name != "alice" })
        let chosen = try choose(distro: "gentoo", passwd: single)
        #expect(chosen.entry.name == "ec2-user" && chosen.reason == .onlyHumanUser)
    }

    @Test func refusesListingCandidates() {
        #expect {
            try choose(distro: "gentoo")
        } throws: { error in
            let failure = error as? RescueReport.Failure
            return failure?.code == .noLoginUser && failure?.candidates == ["ec2-user", "alice"]
        }
        #expect {
            try choose(distro: nil, passwd: Array(Self.passwd.prefix(2)))
        } throws: { ($0 as? RescueReport.Failure)?.candidates == [] }
    }

    @Test func loginShells() {
        #expect(!LoginUserChoice.isLoginShell("/usr/sbin/nologin"))
        #expect(!LoginUserChoice.isLoginShell("/bin/false"))
        #expect(LoginUserChoice.isLoginShell("/bin/bash"))
    }
}
