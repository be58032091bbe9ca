import Glibc
import RescueAgent
import RescueModel
import Testing

/// Only the user's files become the user's; a path sshd's StrictModes would refuse is refused
/// before anything is written. Real directories, real owners: needs root for chown.
@Suite(.enabled(if: isRoot, "chown to the target's uid needs root"))
struct KeyOwnershipTests {
    static let key = fixtureKey(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl new@test")
    static let shadow = "root:$6$secret:19000:0:99999:7:::\n"

    /// debian() plus a second account, bob (1001), and an sshd_config; Fedora's os-release, whose
    /// sshd is upstream's (Debian's accepts more: see groupWritableHomeInAPrivateGroup).
    func target(sshd: String = "") -> TempRoot {
        let t = TempRoot.debian()
        t.file("/etc/os-release", "ID=fedora\n")
        t.file(
            "/etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\nadmin:x:1000:1000::/home/admin:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\n"
        )
        t.file("/etc/ssh/sshd_config", sshd)
        return t
    }

    func inject(_ t: TempRoot) -> RescueReport {
        Injector.inject(
            InjectRequest(keys: [Self.key], user: "admin", runID: "r-1"), into: DirectoryTarget(rootPath: t.root))
    }

    /// uid, gid, permission bits and content: what must stay as it was.
    func snapshot(_ t: TempRoot, _ path: String) -> String {
        guard let st = t.stat(path) else { return "absent" }
        return "\(st.st_uid):\(st.st_gid) \(String(st.st_mode & 0o7777, radix: 8)) \(t.read(path) ?? "")"
    }

    @Test(arguments: ["/etc/shadow", "/etc/passwd", "/etc/sudoers", "/etc/ssh/sshd_config", "/etc/hostname"])
    func systemFilesAreRefusedAndUntouched(_ path: String) throws {
        let t = target(sshd: "AuthorizedKeysFile \(path)\n")
        t.file("/etc/shadow", Self.shadow, mode: 0o640, owner: (0, 42))
        t.file("/etc/sudoers", "root ALL=(ALL) ALL\n", mode: 0o440)
        t.file("/etc/hostname", "box\n")
        let before = snapshot(t, path)
        let report = inject(t)
        #expect(report.error?.code == .unsafePath)
        #expect(report.error?.message.contains("system") == true, "\(report.error?.message ?? "")")
        #expect(snapshot(t, path) == before)
        #expect(t.stat(path + ".keyrescue-r-1.bak") == nil, "no copy of \(path) beside it")
    }

    /// A root-owned 0644 file every user's keys live in stays root's and 0644; so does its backup.
    @Test func aSharedRootFileKeepsItsOwnerAndMode() throws {
        let t = target(sshd: "AuthorizedKeysFile /etc/ssh/authorized_keys\n")
        t.file(
            "/etc/ssh/authorized_keys",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGD6Vv6d4CRdyyxY3f1FZi7Hcn0KOy9Qmbi4bQpWmH4M bob\n")
        let report = inject(t)
        #expect(report.ok, "\(report.error?.message ?? "")")
        for path in ["/etc/ssh/authorized_keys", "/etc/ssh/authorized_keys.keyrescue-r-1.bak"] {
            let st = try #require(t.stat(path))
            #expect(st.st_uid == 0 && st.st_gid == 0 && st.st_mode & 0o7777 == 0o644, "\(path)")
        }
        #expect(t.read("/etc/ssh/authorized_keys")?.contains(Self.key.line) == true)
    }

    @Test func anotherAccountsSSHDirectoryIsRefusedNamingItsOwner() throws {
        let t = target()
        t.dir("/home/admin/.ssh")
        t.set("/home/admin/.ssh", mode: 0o700, owner: (1001, 1001))
        let report = inject(t)
        #expect(report.error?.code == .unsafePath)
        #expect(report.error?.message.contains("bob (uid 1001)") == true, "\(report.error?.message ?? "")")
        #expect(snapshot(t, "/home/admin/.ssh") == "1001:1001 700 ")
        #expect(t.stat("/home/admin/.ssh/authorized_keys") == nil)
    }

    @Test func anotherAccountsKeysFileIsRefusedNamingItsOwner() throws {
        let t = target()
        t.dir("/home/admin/.ssh", mode: 0o700, owner: (1000, 1000))
        t.file("/home/admin/.ssh/authorized_keys", "# bob's\n", mode: 0o600, owner: (1001, 1001))
        let report = inject(t)
        #expect(report.error?.code == .unsafePath && report.error?.message.contains("bob (uid 1001)") == true)
        #expect(snapshot(t, "/home/admin/.ssh/authorized_keys") == "1001:1001 600 # bob's\n")
    }

    /// sshd's StrictModes: home, .ssh and file owned by root or the user, not group/other-writable.
    @Test(arguments: ["home other owner", "home group-writable", ".ssh world-writable", "file group-writable"])
    func strictModesFailuresAreRefusedBeforeWriting(_ layout: String) throws {
        let t = target()
        t.dir("/home/admin/.ssh", mode: 0o700, owner: (1000, 1000))
        t.file("/home/admin/.ssh/authorized_keys", "# mine\n", mode: 0o600, owner: (1000, 1000))
        switch layout {
        case "home other owner": t.set("/home/admin", mode: 0o755, owner: (1001, 1001))
        case "home group-writable": t.set("/home/admin", mode: 0o775, owner: (1000, 1000))
        case ".ssh world-writable": t.set("/home/admin/.ssh", mode: 0o777, owner: (1000, 1000))
        default: t.set("/home/admin/.ssh/authorized_keys", mode: 0o660, owner: (1000, 1000))
        }
        let paths = ["/home/admin", "/home/admin/.ssh", "/home/admin/.ssh/authorized_keys"]
        let before = paths.map { snapshot(t, $0) }
        let report = inject(t)
        #expect(!report.ok && report.error?.code == .unsafePath)
        #expect(report.error?.message.contains("StrictModes") == true, "\(report.error?.message ?? "")")
        #expect(paths.map { snapshot(t, $0) } == before, "nothing changed")
    }

    @Test func strictModesNoAcceptsTheGroupWritableHome() throws {
        let t = target(sshd: "StrictModes no\n")
        t.set("/home/admin", mode: 0o775, owner: (1000, 1000))
        let report = inject(t)
        #expect(report.ok, "\(report.error?.message ?? "")")
        #expect(try #require(t.stat("/home/admin")).st_mode & 0o7777 == 0o775)
    }

    /// sshd opens the file as the user: a root-owned 0600 keys file would never be read.
    @Test func aFileTheUserCannotReadIsRefused() throws {
        let t = target(sshd: "AuthorizedKeysFile /etc/ssh/authorized_keys\n")
        t.file("/etc/ssh/authorized_keys", "# root only\n", mode: 0o600)
        let report = inject(t)
        #expect(report.error?.code == .unsafePath && report.error?.message.contains("admin cannot read") == true)
        #expect(snapshot(t, "/etc/ssh/authorized_keys") == "0:0 600 # root only\n")
    }

    @Test func aKeyBehindOptionsIsAddedPlainlyAndReported() throws {
        let t = target()
        t.dir("/home/admin/.ssh", mode: 0o700, owner: (1000, 1000))
        t.file(
            "/home/admin/.ssh/authorized_keys", "command=\"echo no\" \(Self.key.line)\n", mode: 0o600,
            owner: (1000, 1000))
        let report = inject(t)
        #expect(report.ok && !report.alreadyPresent)
        #expect(report.warnings.contains { $0.code == .keyBehindOptions && $0.message.contains("command=\"echo no\"") })
        let lines = try #require(t.read("/home/admin/.ssh/authorized_keys")).split(separator: "\n")
        #expect(lines.count == 3 && lines[1] == Self.key.line && lines[2].hasPrefix("command="))
        #expect(inject(t).alreadyPresent)
    }

    /// On Debian (TempRoot.debian) a group-writable home is fine when its group is admin's alone, as
    /// Debian's sshd judges it; the same home on Fedora, or with bob in the group, is refused.
    @Test(arguments: [
        ("debian", "admin:x:1000:\n", true), ("fedora", "admin:x:1000:\n", false),
        ("debian", "admin:x:1000:bob\n", false),
    ])
    func groupWritableHomeInAPrivateGroup(_ distro: String, _ group: String, _ accepted: Bool) throws {
        let t = target()
        t.file("/etc/os-release", "ID=\(distro)\n")
        t.file("/etc/group", "root:x:0:\n" + group)
        t.set("/home/admin", mode: 0o775, owner: (1000, 1000))
        let report = inject(t)
        #expect(report.ok == accepted, "\(report.error?.message ?? "")")
        #expect(try #require(t.stat("/home/admin")).st_mode & 0o7777 == 0o775)
    }
}
