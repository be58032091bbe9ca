import Glibc
import RescueAgent
import RescueModel
import Testing

/// The writer against real directories. Needs root for chown (CI is root).
@Suite(.enabled(if: isRoot, "chown to the target's uid needs root"))
struct KeyWriterTests {
    static let key = fixtureKey(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl new@test")
    static let other =
        "ssh-rsa-cert-free ignored\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGD6Vv6d4CRdyyxY3f1FZi7Hcn0KOy9Qmbi4bQpWmH4M old@test\n"

    func inject(_ t: TempRoot, user: String? = nil, replace: Bool = false, dryRun: Bool = false) -> RescueReport {
        Injector.inject(
            InjectRequest(keys: [Self.key], user: user, replace: replace, dryRun: dryRun, runID: "r-1"),
            into: DirectoryTarget(rootPath: t.root))
    }

    @Test func createsSSHDirectoryAndFileWithOwnerAndModes() throws {
        let t = TempRoot.debian()
        let report = inject(t)
        #expect(report.ok && report.user == "admin" && report.uid == 1000)
        let dir = try #require(t.stat("/home/admin/.ssh"))
        let file = try #require(t.stat("/home/admin/.ssh/authorized_keys"))
        #expect(dir.st_uid == 1000 && dir.st_mode & 0o777 == 0o700)
        #expect(file.st_uid == 1000 && file.st_gid == 1000 && file.st_mode & 0o777 == 0o600)
        let text = try #require(t.read("/home/admin/.ssh/authorized_keys"))
        #expect(text.hasPrefix("# keyrescue r-1 ") && text.contains(Self.key.line))
    }

    /// An existing file keeps its owner and mode (0640 here), and so does its backup.
    @Test func keepsExistingLinesOwnerAndModeBacksUpAndIsIdempotent() throws {
        let t = TempRoot.debian()
        t.dir("/home/admin/.ssh", mode: 0o755, owner: (1000, 1000))
        t.file("/home/admin/.ssh/authorized_keys", Self.other, mode: 0o640, owner: (1000, 1000))
        let first = inject(t)
        #expect(
            first.ok && !first.alreadyPresent
                && first.backupPath == "/home/admin/.ssh/authorized_keys.keyrescue-r-1.bak")
        let text = try #require(t.read("/home/admin/.ssh/authorized_keys"))
        #expect(text.hasPrefix(Self.other) && text.contains(Self.key.line))
        #expect(t.read("/home/admin/.ssh/authorized_keys.keyrescue-r-1.bak") == Self.other)
        for path in ["/home/admin/.ssh/authorized_keys", "/home/admin/.ssh/authorized_keys.keyrescue-r-1.bak"] {
            let st = try #require(t.stat(path))
            #expect(st.st_uid == 1000 && st.st_gid == 1000 && st.st_mode & 0o7777 == 0o640, "\(path)")
        }
        #expect(try #require(t.stat("/home/admin/.ssh")).st_mode & 0o7777 == 0o755, "an existing .ssh keeps its mode")
        let again = inject(t)
        #expect(again.ok && again.alreadyPresent)
        #expect(t.read("/home/admin/.ssh/authorized_keys") == text)
    }

    @Test func replaceKeepsOnlyTheNewKey() throws {
        let t = TempRoot.debian()
        t.dir("/home/admin/.ssh", mode: 0o700, owner: (1000, 1000))
        t.file("/home/admin/.ssh/authorized_keys", Self.other)
        #expect(inject(t, replace: true).ok)
        let text = try #require(t.read("/home/admin/.ssh/authorized_keys"))
        #expect(!text.contains("old@test") && text.contains(Self.key.line))
    }

    @Test func dryRunWritesNothing() throws {
        let t = TempRoot.debian()
        let report = inject(t, dryRun: true)
        #expect(report.ok && report.dryRun && report.authorizedKeysPath == "/home/admin/.ssh/authorized_keys")
        #expect(t.stat("/home/admin/.ssh") == nil)
    }

    /// Hostile layouts: each must be refused (or stay inside the root), and nothing may appear outside.
    @Test(arguments: ["sshAbsolute", "sshRelative", "fileAbsolute", "fileRelative", "homeIsRoot", "dotdotHome"])
    func hostileDisksNeverWriteOutside(_ layout: String) throws {
        let t = TempRoot.debian()
        switch layout {
        case "sshAbsolute": t.symlink("/home/admin/.ssh", to: t.outside)
        case "sshRelative": t.symlink("/home/admin/.ssh", to: "../../../outside")
        case "fileAbsolute":
            t.dir("/home/admin/.ssh", mode: 0o700, owner: (1000, 1000))
            t.file("/outside/victim", "host file\n")
            t.symlink("/home/admin/.ssh/authorized_keys", to: t.outside + "/victim")
        case "fileRelative":
            t.dir("/home/admin/.ssh", mode: 0o700, owner: (1000, 1000))
            t.file("/outside/victim", "host file\n")
            t.symlink("/home/admin/.ssh/authorized_keys", to: "../../../../outside/victim")
        case "homeIsRoot":
            _ = system("rm -rf '\(t.root)/home/admin'")
            t.symlink("/home/admin", to: "/")
        default:
            t.file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nadmin:x:1000:1000::/home/../../outside:/bin/bash\n")
        }
        let before = t.outsideListing()
        let report = inject(t)
        #expect(!report.ok)
        // A `..` home is dropped by the passwd parser already, so no user remains to write for.
        #expect(report.error?.code == (layout == "dotdotHome" ? .noLoginUser : .unsafePath))
        #expect(t.outsideListing() == before)
        #expect(t.read("/outside/victim") == (before.isEmpty ? nil : "host file\n"))
    }

    @Test func aHardLinkedAuthorizedKeysIsRefusedAndNothingIsCopied() throws {
        let t = TempRoot.debian()
        t.file("/etc/shadow", "root:$6$secret:19000:0:99999:7:::\n", mode: 0o600)
        t.dir("/home/admin/.ssh", mode: 0o700, owner: (1000, 1000))
        #expect(link(t.root + "/etc/shadow", t.root + "/home/admin/.ssh/authorized_keys") == 0)
        let report = inject(t)
        #expect(report.error?.code == .unsafePath)
        #expect(t.read("/etc/shadow") == "root:$6$secret:19000:0:99999:7:::\n")
        #expect(try #require(t.stat("/etc/shadow")).st_nlink == 2, "the agent neither wrote nor unlinked anything")
    }

    @Test func missingHomeSaysWhereToLook() {
        let t = TempRoot.debian()
        _ = system("rm -rf '\(t.root)/home/admin'")
        let report = inject(t)
        #expect(report.error?.code == .homeNotOnDisk)
    }

    @Test func selinuxTargetsGetTheSSHHomeLabel() throws {
        let t = TempRoot.debian()
        t.dir("/etc/selinux/targeted/contexts/files")
        t.file("/etc/selinux/config", "SELINUX=permissive\nSELINUXTYPE=targeted\n")
        t.file(
            "/etc/selinux/targeted/contexts/files/file_contexts.homedirs",
            "HOME_DIR/\\.ssh(/.*)?\tunconfined_u:object_r:ssh_home_t:s0\n")
        let report = inject(t)
        #expect(report.selinuxLabel == "unconfined_u:object_r:ssh_home_t:s0")
        // tmpfs and most test filesystems accept security.* only with SELinux on; ok or a clear error.
        #expect(report.ok || report.error?.message.contains("SELinux label") == true)
    }
}
