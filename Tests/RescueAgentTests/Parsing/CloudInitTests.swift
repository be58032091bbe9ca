import RescueAgent
import Testing

@Suite struct CloudInitTests {
    static let ubuntuCfg = """
        # The top level settings are used as module
        users:
           - default
        disable_root: true
        system_info:
           # This will affect which distro class gets used
           distro: ubuntu
           # Default user name + that default users groups (if added/used)
           default_user:
             name: ubuntu
             lock_passwd: True
             gecos: Ubuntu
             groups: [adm, audio, cdrom, dialout, dip, floppy, lxd, netdev, plugdev, sudo, video]
             sudo: ["ALL=(ALL) NOPASSWD:ALL"]
             shell: /bin/bash
           package_mirrors:
             - arches: [i386, amd64]
               failsafe:
                 primary: http://archive.ubuntu.com/ubuntu
        """

    @Test func ubuntuDefaultUser() throws {
        let users = try CloudInitConfig.users(cloudCfg: Self.ubuntuCfg, dropIns: [])
        #expect(users.defaultUserName == "ubuntu" && users.usersIncludesDefault && users.keyUser == "ubuntu")
    }

    @Test func dropInsApplyInLexicalOrderLaterWins() throws {
        let dropIns = [
            (name: "99-zz.cfg", text: "system_info:\n  default_user:\n    name: \"zed\"\n"),
            (name: "10-a.cfg", text: "system_info:\n  default_user:\n    name: alpha\n"),
            (name: "50-ignored.txt", text: "system_info:\n  default_user:\n    name: nope\n"),
        ]
        #expect(try CloudInitConfig.users(cloudCfg: Self.ubuntuCfg, dropIns: dropIns).keyUser == "zed")
    }

    @Test func legacyUserForms() throws {
        #expect(
            try CloudInitConfig.users(cloudCfg: Self.ubuntuCfg, dropIns: [(name: "a.cfg", text: "user: bob\n")]).keyUser
                == "bob")
        #expect(try CloudInitConfig.users(cloudCfg: "user:\n  name: carol\n", dropIns: []).keyUser == "carol")
        #expect(
            try CloudInitConfig.users(cloudCfg: "user: {name: dave, shell: /bin/sh}\n", dropIns: []).keyUser == "dave")
    }

    @Test func usersWithoutDefaultPointsAtFirstListed() throws {
        let cfg = """
            system_info: {default_user: {name: ec2-user}}
            users:
            - name: admin2
              groups: wheel
            - other
            """
        let users = try CloudInitConfig.users(cloudCfg: cfg, dropIns: [])
        #expect(
            users.defaultUserName == "ec2-user" && users.users == ["admin2", "other"] && !users.usersIncludesDefault)
        #expect(users.keyUser == "admin2")
        #expect(
            try CloudInitConfig.users(
                cloudCfg: "users: [default, x]\nsystem_info:\n  default_user: {name: 'o''k'}", dropIns: []
            ).keyUser == "o'k")
        #expect(try CloudInitConfig.users(cloudCfg: "users: default, bob", dropIns: []).usersIncludesDefault)
    }

    @Test(arguments: [
        "", "::::", "- - -\n  :", "key: [unclosed", "system_info: |\n  default_user:\n    name: x\n", "\t\tx: y",
    ])
    func garbageYieldsNoUser(text: String) throws {
        #expect(try CloudInitConfig.users(cloudCfg: text, dropIns: []).keyUser == nil)
    }

    @Test func yamlShapes() throws {
        let node = try MiniYAML.parse("a: 1 # c\nb:\n- x\n- 'y # z'\nc: {k: v}\nd: \"q: r\"\n")
        #expect(node["a"]?.string == "1")
        #expect(node["b"]?.items == [.scalar("x"), .scalar("y # z")])
        #expect(node["c"]?["k"]?.string == "v")
        #expect(node["d"]?.string == "q: r")
    }
}
