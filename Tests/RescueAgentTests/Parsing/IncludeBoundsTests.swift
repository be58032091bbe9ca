import Glibc
import RescueModel
import Testing

@testable import RescueAgent

/// sshd_config's `Include` on hostile trees: each file read once (by inode), wildcards never
/// descending through directory symlinks, and every cap a refusal naming the file.
@Suite struct IncludeBoundsTests {
    @Test func hardLinksAreReadOnce() throws {
        var files = ["/etc/ssh/sshd_config": "Include d/*.conf\n"]
        var inodes: [String: UInt64] = [:]
        for i in 0..<1000 {
            files["/etc/ssh/d/\(i).conf"] = "AuthorizedKeysFile /keys/%u\nDenyUsers u\(i)\n"
            inodes["/etc/ssh/d/\(i).conf"] = 7
        }
        let fake = FakeFiles(files: files, inodes: inodes)
        let config = try SSHDConfig.read(fake)
        #expect(config.authorizedKeysFiles == ["/keys/%u"])
        #expect(config.denyUsers.count == 1)
        #expect(fake.reads.values.reduce(0, +) == 2)  // sshd_config and one of the links
    }

    @Test func wildcardsDoNotDescendThroughDirectorySymlinks() throws {
        let fake = FakeFiles(
            files: [
                "/etc/ssh/sshd_config": "Include /etc/ssh/d/*/*/*/*.conf /etc/ssh/d/*.conf\n",
                "/etc/ssh/d/x.conf": "DenyUsers x\n",
            ],
            links: ["/etc/ssh/d/a": "/etc/ssh/d", "/etc/ssh/d/b": "/etc/ssh/d"])
        let config = try SSHDConfig.read(fake)
        #expect(config.denyUsers == ["x"])
        #expect(try fake.glob("/etc/ssh/d/*/x.conf").isEmpty)
        // A literal component is resolved as sshd would.
        #expect(
            try SSHDConfig.read(
                FakeFiles(
                    files: [
                        "/etc/ssh/sshd_config": "Include /etc/ssh/a/*.conf\n", "/etc/ssh/d/x.conf": "DenyUsers y\n",
                    ],
                    links: ["/etc/ssh/a": "/etc/ssh/d"])
            ).denyUsers == ["y"])
    }

    @Test func tooManyMatchesIsRefused() {
        var files = ["/etc/ssh/sshd_config": "Include d/*.conf\n"]
        for i in 0...ReadLimits.globPaths { files["/etc/ssh/d/\(i).conf"] = "" }
        #expect {
            try SSHDConfig.read(FakeFiles(files: files))
        } throws: { error in
            (error as? TargetFileError)?.problem.contains("matches more than 65536 paths") == true
        }
    }

    @Test func nestingDeeperThanSshdIsRefused() {
        var files: [String: String] = ["/etc/ssh/sshd_config": "Include /c/0\n"]
        for i in 0..<20 { files["/c/\(i)"] = "Include /c/\(i + 1)\n" }
        #expect {
            try SSHDConfig.read(FakeFiles(files: files))
        } throws: { error in
            (error as? TargetFileError)?.problem.contains("levels deep") == true
        }
    }

    @Test func aFileIncludedInAndOutsideAMatchCountsInBoth() throws {
        let fake = FakeFiles(files: [
            "/etc/ssh/sshd_config": "Match User x\nInclude /c/k\nMatch all\nInclude /c/k\n",
            "/c/k": "AuthorizedKeysFile /keys/%u\n",
        ])
        let config = try SSHDConfig.read(fake)
        #expect(config.authorizedKeysFiles == ["/keys/%u"] && config.matchBlocks == ["User x"])
    }

    /// The real reader on a real tree: `a -> .` loops and 500 hard links.
    @Test(.timeLimit(.minutes(1)))
    func realTreeWithLoopsAndHardLinks() throws {
        let t = TempRoot()
        t.dir("/etc/ssh/d")
        t.file("/etc/ssh/sshd_config", "Include /etc/ssh/d/*/*/*/*/*/*.conf\nInclude d/*.conf\n")
        t.file("/etc/ssh/d/x.conf", "AuthorizedKeysFile .ssh/keys_from_x\n")
        for i in 0..<500 { link(t.root + "/etc/ssh/d/x.conf", t.root + "/etc/ssh/d/h\(i).conf") }
        for name in ["a", "b", "c"] { t.symlink("/etc/ssh/d/\(name)", to: ".") }
        let root = try SafeRoot(path: t.root)
        #expect(try root.glob("/etc/ssh/d/*/x.conf").isEmpty)
        #expect(try SSHDConfig.read(root).authorizedKeysFiles == [".ssh/keys_from_x"])
    }
}

/// A passwd of many ordinary accounts: the refusal lists a few of them, not all.
@Suite struct ManyAccountsTests {
    @Test func candidatesAreCapped() {
        let passwd = (0..<1000).map {
            PasswdEntry(name: "u\($0)", uid: UInt32(1000 + $0), gid: 100, home: "/home/u\($0)", shell: "/bin/sh")
        }
        #expect {
            try LoginUserChoice.choose(override: nil, cloudInit: CloudInitUsers(), distroID: "unknown", passwd: passwd)
        } throws: { error in
            let failure = error as? RescueReport.Failure
            return failure?.candidates.count == 50 && failure?.message.hasSuffix("u19 and 980 more") == true
        }
    }
}
