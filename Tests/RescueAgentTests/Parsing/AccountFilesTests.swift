import RescueAgent
import Testing

@Suite struct AccountFilesTests {
    @Test func ordinaryPasswd() {
        let text = """
            root:x:0:0:root:/root:/bin/bash
            daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
            ec2-user:x:1000:1000:EC2 Default User:/home/ec2-user:/bin/bash
            noshell:x:1001:1001::/home/noshell:
            """
        let (entries, skipped) = AccountFiles.parsePasswd(text)
        #expect(skipped.isEmpty)
        #expect(entries.map(\.name) == ["root", "daemon", "ec2-user", "noshell"])
        #expect(
            entries[2]
                == PasswdEntry(
                    name: "ec2-user", uid: 1000, gid: 1000, gecos: "EC2 Default User", home: "/home/ec2-user",
                    shell: "/bin/bash"))
        #expect(entries[3].shell == "/bin/sh")
    }

    @Test(arguments: [
        ("evil:x:1000:1000::/home/../etc:/bin/sh", "home"),
        ("evil:x:1000:1000::home/evil:/bin/sh", "home"),
        ("evil:x:1000:1000::/home/./x:/bin/sh", "home"),
        ("evil:x:-1:1000::/home/evil:/bin/sh", "uid"),
        ("evil:x:4294967295:1000::/home/evil:/bin/sh", "uid"),
        ("evil:x:99999999999999999999:1:::/bin/sh", "uid"),
        ("evil:x:0x10:1::/home/evil:/bin/sh", "uid"),
        ("evil:x::1::/home/evil:/bin/sh", "uid"),
        ("evil:x:1000:1000::/home/evil", "fields"),
        ("evil:x:1000:1000::/home/evil:/bin/sh:extra", "fields"),
        (":x:1000:1000::/home/evil:/bin/sh", "name"),
        ("ev il:x:1000:1000::/home/evil:/bin/sh", "name"),
    ])
    func hostileLinesAreSkipped(line: String, what: String) {
        let (entries, skipped) = AccountFiles.parsePasswd("root:x:0:0::/root:/bin/sh\n" + line + "\n")
        #expect(entries.map(\.name) == ["root"])
        #expect(skipped.count == 1 && skipped.first?.number == 2)
        #expect(skipped.first?.reason.contains(what) == true || what == "fields" || what == "name")
    }

    @Test func nisDuplicatesCRLFAndBlanks() {
        let text = "+::::::\n\nalice:x:1000:1000::/home/alice/:/bin/bash\r\nalice:x:0:0::/root:/bin/sh\n-bob\n# c\n"
        let (entries, skipped) = AccountFiles.parsePasswd(text)
        #expect(entries.count == 1 && entries[0].uid == 1000 && entries[0].home == "/home/alice")
        #expect(skipped.map(\.reason) == ["duplicate user alice"])
    }

    @Test func group() {
        let (entries, skipped) = AccountFiles.parseGroup(
            "wheel:x:10:ec2-user,alice\nusers:x:100:\nbad:x:-5:\nshort:x\n")
        #expect(
            entries == [
                GroupEntry(name: "wheel", gid: 10, members: ["ec2-user", "alice"]),
                GroupEntry(name: "users", gid: 100, members: []),
            ])
        #expect(skipped.map(\.number) == [3, 4])
    }
}
