import RescueAgent
import Testing

/// MiniYAML on hostile cloud-init files: nesting is refused past a fixed depth (never a deeper
/// stack), and long lists parse in one pass. The time limits stand for "does not hang".
@Suite struct YAMLBoundsTests {
    @Test(.timeLimit(.minutes(1)), arguments: ["[", "{", "{a: ", "[{a: ["])
    func deepFlowNestingIsRefusedNotRecursed(_ opener: String) {
        let text = "users: " + String(repeating: opener, count: 50_000 / opener.count) + "\n"
        #expect(throws: YAMLError.self) { try MiniYAML.parse(text) }
    }

    @Test(.timeLimit(.minutes(1)))
    func deepBlockNestingIsRefused() {
        let dashes = "users:\n" + String(repeating: "- ", count: 30_000) + "x\n"
        #expect(throws: YAMLError.self) { try MiniYAML.parse(dashes) }
        let indented = (0..<200).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")
        #expect(throws: YAMLError.self) { try MiniYAML.parse(indented) }
    }

    @Test func nestingWithinTheLimitIsRead() throws {
        let flow = "a: " + String(repeating: "[", count: 60) + "x" + String(repeating: "]", count: 60) + "\n"
        var node = try MiniYAML.parse(flow)["a"]
        for _ in 0..<59 { node = node?.items?.first }
        #expect(node?.items == [.scalar("x")])
    }

    @Test(.timeLimit(.minutes(1)))
    func aLongUsersListIsReadInOnePass() throws {
        let items = (0..<40_000).map { "  - name: u\($0)\n    groups: [a, b]\n    shell: /bin/bash\n" }.joined()
        let users = try CloudInitConfig.users(cloudCfg: "users:\n" + items, dropIns: [])
        #expect(users.users?.count == 40_000)
        #expect(users.keyUser == "u0")
    }

    @Test(.timeLimit(.minutes(1)), arguments: ["a: [}", "a: {]", "a: [x}y]", "a: {k: [}}"])
    func strayClosingBracketsEndNothing(_ text: String) throws {
        #expect(try MiniYAML.parse(text)["a"] != nil)
    }

    @Test func aTooDeepDropInIsNamed() {
        let deep = "system_info: " + String(repeating: "[", count: 100) + "\n"
        #expect {
            try CloudInitConfig.users(cloudCfg: "users: [default]\n", dropIns: [(name: "90-deep.cfg", text: deep)])
        } throws: { error in
            let error = error as? TargetFileError
            return error?.path == "/etc/cloud/cloud.cfg.d/90-deep.cfg" && error?.kind == .tooLarge
                && error?.problem.contains("nests more than 64 levels") == true
        }
    }
}
