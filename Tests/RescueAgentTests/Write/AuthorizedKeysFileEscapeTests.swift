import Glibc
import RescueAgent
import RescueModel
import Testing

/// A hostile sshd_config whose AuthorizedKeysFile climbs out of the home with `..`: the writer walks
/// the directories under the home one by one with plain openat, so `..` must be refused there or it
/// would leave the target root (and chown/chmod the host's directories on the way).
@Suite(.enabled(if: isRoot, "chown to the target's uid needs root"))
struct AuthorizedKeysFileEscapeTests {
    static let key = fixtureKey(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl new@test")

    @Test(arguments: [
        ".ssh/../../../../outside/authorized_keys",
        "%h/../../../outside/authorized_keys",
        ".ssh/../../../../outside/made/authorized_keys",
    ])
    func dotDotInAuthorizedKeysFileNeverLeavesTheRoot(_ pattern: String) throws {
        let t = TempRoot.debian()
        t.dir("/etc/ssh")
        t.file("/etc/ssh/sshd_config", "AuthorizedKeysFile \(pattern)\n")
        var before = Glibc.stat()
        #expect(lstat(t.outside, &before) == 0)
        let listing = t.outsideListing()
        let report = Injector.inject(
            InjectRequest(keys: [Self.key], user: nil, replace: false, dryRun: false, runID: "r-1"),
            into: DirectoryTarget(rootPath: t.root))
        #expect(t.outsideListing() == listing, "nothing written beside the target root")
        var after = Glibc.stat()
        #expect(lstat(t.outside, &after) == 0)
        #expect(
            after.st_uid == before.st_uid && after.st_mode == before.st_mode, "the host's directory kept owner and mode"
        )
        #expect(!report.ok || report.authorizedKeysPath.map { !$0.contains("..") } == true)
    }

    /// A user whose home is `/` (common for system accounts, reachable with --user) and a system-wide
    /// AuthorizedKeysFile: the directories on the way (/etc, /etc/ssh) keep their owner and mode.
    @Test func directoriesOnTheWayFromTheHomeKeepTheirOwnerAndMode() throws {
        let t = TempRoot.debian()
        t.file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nsvc:x:1001:1001::/:/bin/bash\n")
        t.file("/etc/ssh/sshd_config", "AuthorizedKeysFile /etc/ssh/keys/%u\n")
        t.dir("/etc/ssh/keys")
        let etc = try #require(t.stat("/etc"))
        let ssh = try #require(t.stat("/etc/ssh"))
        let report = Injector.inject(
            InjectRequest(keys: [Self.key], user: "svc", replace: false, dryRun: false, runID: "r-1"),
            into: DirectoryTarget(rootPath: t.root))
        #expect(report.ok && report.authorizedKeysPath == "/etc/ssh/keys/svc")
        for (path, before) in [("/etc", etc), ("/etc/ssh", ssh)] {
            let after = try #require(t.stat(path))
            #expect(after.st_uid == before.st_uid && after.st_mode == before.st_mode, "\(path) unchanged")
        }
        #expect(try #require(t.stat("/etc/ssh/keys/svc")).st_uid == 1001)
    }
}
