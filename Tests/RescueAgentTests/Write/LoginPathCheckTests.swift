import Testing

@testable import RescueAgent

/// The pure judges: sshd's StrictModes walk, the user's access, and which paths may be keys files.
@Suite struct LoginPathCheckTests {
    let admin = LoginAccount(name: "admin", uid: 1000, groups: [1000], names: [1001: "bob"])

    func node(_ path: String, _ uid: UInt32 = 0, _ mode: UInt32 = 0o755, gid: UInt32? = nil) -> PathNode {
        PathNode(path: path, uid: uid, gid: gid ?? uid, mode: mode)
    }

    var file: PathNode { node("/home/admin/.ssh/authorized_keys", 1000, 0o600) }
    func chain(home: PathNode, homeParent: PathNode? = nil) -> [PathNode] {
        [node("/home/admin/.ssh", 1000, 0o700), home, homeParent ?? node("/home"), node("/")]
    }

    @Test func aTidyHomePasses() {
        let dirs = chain(home: node("/home/admin", 1000, 0o750))
        #expect(
            LoginPathCheck.strictModesProblem(file: file, directories: dirs, home: "/home/admin", account: admin) == nil
        )
        #expect(LoginPathCheck.accessProblem(file: file, directories: dirs, account: admin) == nil)
    }

    /// The walk stops at the home: a group-writable /home above it does not matter to sshd.
    @Test func theWalkStopsAtTheHome() {
        let dirs = chain(home: node("/home/admin", 1000), homeParent: node("/home", 0, 0o775))
        #expect(
            LoginPathCheck.strictModesProblem(file: file, directories: dirs, home: "/home/admin", account: admin) == nil
        )
    }

    /// A system-wide file is checked all the way up to `/`.
    @Test func aSystemWideFileIsCheckedUpToTheRoot() {
        let shared = node("/srv/keys/admin", 1000, 0o600)
        let dirs = [node("/srv/keys"), node("/srv", 0, 0o777), node("/")]
        let why = LoginPathCheck.strictModesProblem(
            file: shared, directories: dirs, home: "/home/admin", account: admin)
        #expect(why == "/srv is writable by its group and others (mode 0777)")
    }

    @Test func ownersAndWritableBitsAreNamed() {
        let other = chain(home: node("/home/admin", 1001))
        #expect(
            LoginPathCheck.strictModesProblem(file: file, directories: other, home: "/home/admin", account: admin)
                == "/home/admin is owned by bob (uid 1001), not by admin or root")
        let loose = node("/home/admin/.ssh/authorized_keys", 1000, 0o620)
        #expect(
            LoginPathCheck.strictModesProblem(
                file: loose, directories: chain(home: node("/home/admin", 1000)), home: "/home/admin", account: admin)
                == "/home/admin/.ssh/authorized_keys is writable by its group (mode 0620) (file)")
    }

    @Test func accessFollowsOwnerThenGroupThenOther() {
        let dirs = chain(home: node("/home/admin", 1000, 0o700))
        #expect(
            LoginPathCheck.accessProblem(file: node(file.path, 0, 0o600), directories: dirs, account: admin)?.contains(
                "cannot read") == true)
        #expect(
            LoginPathCheck.accessProblem(file: node(file.path, 0, 0o640, gid: 1000), directories: dirs, account: admin)
                == nil)
        // Owner bits apply to the owner even when others may read: the kernel stops at the first class.
        #expect(
            LoginPathCheck.accessProblem(file: node(file.path, 1000, 0o044), directories: dirs, account: admin) != nil)
        let closed = chain(home: node("/home/admin", 1000), homeParent: node("/home", 0, 0o700))
        #expect(
            LoginPathCheck.accessProblem(file: file, directories: closed, account: admin)?.contains(
                "cannot enter /home ") == true)
        let root = LoginAccount(name: "root", uid: 0, groups: [0])
        #expect(
            LoginPathCheck.accessProblem(file: node(file.path, 1000, 0o000), directories: closed, account: root) == nil)
    }

    @Test(arguments: [
        ("/etc/shadow", false), ("/etc/gshadow", false), ("/etc/passwd", false), ("/etc/group", false),
        ("/etc/sudoers", false), ("/etc/sudoers.d/90-cloud", false), ("/etc/hostname", false),
        ("/etc/ssh/sshd_config", false), ("/etc/ssh/ssh_host_ed25519_key", false),
        ("/etc/ssh/keys/ssh_host_rsa_key", false),
        ("/etc/ssh/authorized_keys", true), ("/etc/ssh/authorized_keys/admin", true), ("/etc/ssh/keys/admin", true),
        ("/etc/authorized-keys/admin", true), ("/home/admin/.ssh/authorized_keys", true), ("/srv/keys/admin", true),
    ])
    func systemFilesUnderEtc(_ path: String, _ allowed: Bool) {
        #expect((KeysFilePolicy.systemFileRefusal(path) == nil) == allowed)
    }

    @Test func binariesAndSetIDFilesAreNotKeysFiles() {
        #expect(KeysFilePolicy.contentRefusal(Array("ssh-ed25519 AAAA x\n".utf8), mode: 0o755) == nil)
        #expect(KeysFilePolicy.contentRefusal([0x7f, 0x45, 0x4c, 0x46, 0], mode: 0o755) != nil)
        #expect(KeysFilePolicy.contentRefusal([], mode: 0o4755) != nil)
    }

    /// Debian's and Ubuntu's sshd accept a group-writable path of the user's in a group of the user alone.
    @Test func privateGroupsAreThoseOfTheUserAlone() {
        let user = PasswdEntry(name: "admin", uid: 1000, gid: 1000, home: "/home/admin", shell: "/bin/bash")
        let passwd = [
            user, PasswdEntry(name: "bob", uid: 1001, gid: 1001, home: "/home/bob", shell: "/bin/bash"),
            PasswdEntry(name: "app", uid: 1002, gid: 1003, home: "/srv", shell: "/bin/sh"),
        ]
        let groups = [
            GroupEntry(name: "admin", gid: 1000, members: []), GroupEntry(name: "bob", gid: 1001, members: []),
            GroupEntry(name: "ops", gid: 1002, members: ["admin"]),
            GroupEntry(name: "web", gid: 1003, members: ["admin"]),
            GroupEntry(name: "empty", gid: 1004, members: []),
            GroupEntry(name: "two", gid: 1005, members: ["admin", "bob"]),
        ]
        #expect(LoginPathCheck.privateGroups(of: user, passwd: passwd, groups: groups) == [1000, 1002])
        var debian = admin
        debian.privateGroups = [1000]
        let home = node("/home/admin", 1000, 0o775, gid: 1000)
        let dirs = chain(home: home)
        #expect(
            LoginPathCheck.strictModesProblem(file: file, directories: dirs, home: home.path, account: debian) == nil)
        #expect(
            LoginPathCheck.strictModesProblem(file: file, directories: dirs, home: home.path, account: admin) != nil)
        let worldWritable = chain(home: node("/home/admin", 1000, 0o777, gid: 1000))
        #expect(
            LoginPathCheck.strictModesProblem(file: file, directories: worldWritable, home: home.path, account: debian)
                != nil)
    }
}
