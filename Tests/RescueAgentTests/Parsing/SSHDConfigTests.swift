@testable import RescueAgent
import RescueModel
import Testing

@Suite struct SSHDConfigTests {
    @Test func firstValueWinsAndIncludesSpliceInPlace() throws {
        let files = FakeFiles(files: [
            "/etc/ssh/sshd_config":
                "Include /etc/ssh/sshd_config.d/*.conf\nPubkeyAuthentication yes\nAuthorizedKeysFile .ssh/authorized_keys\n",
            "/etc/ssh/sshd_config.d/50-cloud.conf":
                "AuthorizedKeysFile /etc/ssh/keys/%u %h/.ssh/authorized_keys\nPubkeyAuthentication no\n",
        ])
        let config = try SSHDConfig.read(files)
        #expect(config.authorizedKeysFiles == ["/etc/ssh/keys/%u", "%h/.ssh/authorized_keys"])
        #expect(!config.pubkeyAuthentication)
    }

    @Test func matchBlocksDoNotSetGlobalValues() throws {
        let files = FakeFiles(files: [
            "/etc/ssh/sshd_config": "Match User bob\n  PubkeyAuthentication no\nMatch all\nAllowUsers alice admin\n"
        ])
        let config = try SSHDConfig.read(files)
        #expect(
            config.pubkeyAuthentication && config.matchBlocks == ["User bob"]
                && config.allowUsers == ["alice", "admin"])
    }

    @Test(arguments: [
        ("%h/.ssh/authorized_keys", "/home/a/.ssh/authorized_keys"),
        (".ssh/authorized_keys", "/home/a/.ssh/authorized_keys"),
        ("/etc/ssh/keys/%u", "/etc/ssh/keys/a"),
        ("/k/100%%/%u", "/k/100%/a"),
    ])
    func expandsTokens(_ pattern: String, _ expected: String) {
        #expect(SSHDConfig.expand(pattern, user: "a", home: "/home/a") == expected)
    }

    @Test func unknownTokensAreNotGuessed() {
        #expect(SSHDConfig.expand("/keys/%U", user: "a", home: "/home/a") == nil)
    }

    @Test func wordsHonourQuotesCommentsAndEquals() {
        #expect(
            SSHDConfig.words("AuthorizedKeysFile \"/a b/keys\" x # note") == ["AuthorizedKeysFile", "/a b/keys", "x"])
        #expect(SSHDConfig.words("PubkeyAuthentication=no") == ["PubkeyAuthentication", "no"])
        #expect(SSHDConfig.words("# PubkeyAuthentication no").isEmpty)
    }
}

@Suite struct InspectionWarningTests {
    static let base = [
        "/etc/passwd":
            "root:x:0:0::/root:/bin/bash\nadmin:x:1000:1000::/home/admin:/bin/bash\nsvc:x:1001:1001::/home/svc:/usr/sbin/nologin\n",
        "/etc/group": "admin:x:1000:\nwheel:x:10:admin\n",
        "/etc/os-release": "ID=debian\n",
    ]
    static let key: PublicKey = {
        do {
            return try PublicKey(
                parsing: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl k")
        } catch {
            fatalError("the test key does not parse: \(error)")
        }
    }()

    func warnings(_ sshd: String, user: String? = nil) throws -> [RescueWarningCode] {
        var files = Self.base
        files["/etc/ssh/sshd_config"] = sshd
        return try TargetInspection.inspect(FakeFiles(files: files), userOverride: user, keys: [Self.key]).warnings.map(
            \.code)
    }

    @Test func refusalsInTheTargetsOwnConfigAreReported() throws {
        #expect(try warnings("PubkeyAuthentication no\n") == [.pubkeyAuthenticationDisabled])
        #expect(try warnings("AllowUsers alice\n") == [.userNotAllowed])
        #expect(try warnings("DenyGroups wheel\n") == [.userNotAllowed])
        #expect(try warnings("AllowGroups wheel\n").isEmpty)
        #expect(try warnings("PubkeyAcceptedAlgorithms rsa-sha2-512\n") == [.keyTypeNotAccepted])
        #expect(try warnings("", user: "svc") == [.loginShellRefuses])
        #expect(try warnings("Match Address 10.0.0.0/8\n PubkeyAuthentication no\n") == [.matchBlockMayApply])
    }

    @Test func hostKeysAndDistroComeFromTheDisk() throws {
        var files = Self.base
        files["/etc/ssh/ssh_host_ed25519_key.pub"] = Self.key.line + "\n"
        let found = try TargetInspection.inspect(FakeFiles(files: files), userOverride: nil, keys: [Self.key])
        #expect(found.user.name == "admin" && found.distro?.id == "debian")
        #expect(found.hostKeys.map(\.fingerprint) == [Self.key.fingerprint])
    }

    @Test func noPasswdMeansNoLinuxRoot() {
        #expect(throws: RescueReport.Failure.self) {
            try TargetInspection.inspect(FakeFiles(files: [:]), userOverride: nil, keys: [])
        }
    }
}

@Suite struct FstabTests {
    @Test func findsTheFilesystemHoldingAHome() {
        let entries = Fstab.parse(
            """
            # comment
            UUID=aaa / ext4 defaults 0 1
            UUID=bbb /home btrfs subvol=home,compress=zstd 0 0
            LABEL=data /srv/my\\040data xfs defaults 0 0
            /swapfile none swap sw 0 0
            """)
        #expect(entries.count == 3)  // swap has no mount point
        #expect(Fstab.entry(holding: "/home/admin", in: entries)?.spec == "UUID=bbb")
        #expect(Fstab.entry(holding: "/home/admin", in: entries)?.options.first == "subvol=home")
        #expect(Fstab.entry(holding: "/root", in: entries)?.mountPoint == "/")
        #expect(Fstab.entry(holding: "/srv/my data/x", in: entries)?.spec == "LABEL=data")
        #expect(Fstab.entry(holding: "/homework", in: entries)?.mountPoint == "/")
    }
}

@Suite struct OpenSSHVersionTests {
    static let rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0"

    @Test func readsDpkgStatusWithoutRunningAnything() {
        let status =
            "Package: openssh-client\nVersion: 1:9.2p1-2\n\nPackage: openssh-server\nStatus: install ok installed\nVersion: 1:6.0p1-4+deb7u2\n"
        #expect(OpenSSHVersion.read(FakeFiles(files: ["/var/lib/dpkg/status": status])) == OpenSSHVersion(6, 0))
    }

    @Test func readsTheVersionStringInsideTheBinary() {
        let binary = "\u{7F}ELF\u{0}junk\u{0}OpenSSH_9.6p1 Ubuntu-3ubuntu13\u{0}more"
        #expect(OpenSSHVersion.read(FakeFiles(files: ["/usr/sbin/sshd": binary])) == OpenSSHVersion(9, 6))
        #expect(OpenSSHVersion.read(FakeFiles(files: [:])) == nil)
    }

    @Test func keyTypesOldOrNewServersRefuse() {
        #expect(OpenSSHVersion(6, 4).refusal(of: .ed25519) != nil)
        #expect(OpenSSHVersion(6, 5).refusal(of: .ed25519) == nil)
        #expect(OpenSSHVersion(8, 8).refusal(of: .rsa)?.contains("SHA-1") == true)
        #expect(OpenSSHVersion(8, 7).refusal(of: .rsa) == nil)
        #expect(OpenSSHVersion(8, 1).refusal(of: .skEd25519) != nil)
    }

    @Test func anOldServerWarnsInTheReport() throws {
        var files = InspectionWarningTests.base
        files["/var/lib/dpkg/status"] = "Package: openssh-server\nVersion: 1:6.0p1-4\n"
        let found = try TargetInspection.inspect(
            FakeFiles(files: files), userOverride: nil, keys: [InspectionWarningTests.key])
        #expect(found.warnings.map(\.code) == [.keyTypeNotAccepted])
        #expect(found.warnings.first?.message.contains("predates ed25519") == true)
    }
}

@Suite struct SELinuxLabelSourceTests {
    @Test func aDefaultedLabelIsSaidInTheWarnings() throws {
        var files = InspectionWarningTests.base
        files["/etc/selinux/config"] = "SELINUX=enforcing\nSELINUXTYPE=targeted\n"
        let defaulted = try TargetInspection.inspect(
            FakeFiles(files: files), userOverride: nil, keys: [InspectionWarningTests.key])
        #expect(defaulted.selinuxLabel == "unconfined_u:object_r:ssh_home_t:s0")
        #expect(defaulted.warnings.map(\.code) == [.selinuxLabelDefaulted])
        files["/etc/selinux/targeted/contexts/files/file_contexts.homedirs"] =
            "/home/[^/]+/\\.ssh(/.*)?\tstaff_u:object_r:ssh_home_t:s0\n"
        let fromPolicy = try TargetInspection.inspect(
            FakeFiles(files: files), userOverride: nil, keys: [InspectionWarningTests.key])
        #expect(fromPolicy.selinuxLabel == "staff_u:object_r:ssh_home_t:s0" && fromPolicy.warnings.isEmpty)
    }
}
