import RescueAgent
import Testing

/// OpenSSH's match_pattern and match_pattern_list, glob(3) for file names, and patterns that take
/// an exponential backtracking matcher minutes (the time limit stands for "hangs").
@Suite struct PatternTests {
    @Test(arguments: [
        ("a*b", "axxb", true), ("a*b", "axxbc", false), ("*", "", true), ("?", "", false),
        ("us?r", "user", true), ("*adm*", "sysadmins", true), ("a**b", "ab", true),
        // OpenSSH has no brackets and no escapes: `[` and `\` are themselves.
        ("[ab]", "a", false), ("[ab]", "[ab]", true), ("a\\*", "a\\x", true), ("a\\*", "a*", false),
        ("*a*a*b", "aaab", true), ("*a*a*b", "aab", true), ("*a*a*b", "ab", false),
    ])
    func openSSHPatterns(_ pattern: String, _ name: String, _ expected: Bool) {
        #expect(SSHPattern.matches(pattern, name) == expected)
    }

    @Test func patternListsWithNegation() {
        #expect(SSHPattern.matchList("!root,*", "root") == .negated)
        #expect(SSHPattern.matchList("!root,*", "admin") == .positive)
        #expect(SSHPattern.matchList("adm*,!admin", "admin") == .negated)
        #expect(SSHPattern.matchList("ssh-ed25519,rsa-sha2-*", "rsa-sha2-512") == .positive)
        #expect(SSHPattern.matchList("ssh-ed25519", "ecdsa-sha2-nistp256") == .none)
        // A subpattern of 1023 bytes or more: OpenSSH gives up on the whole list.
        #expect(SSHPattern.matchList("*," + String(repeating: "x", count: 1023), "anything") == .none)
    }

    @Test(arguments: [
        ("*.conf", "50-cloud.conf", true), ("*.conf", ".hidden.conf", false), (".*.conf", ".hidden.conf", true),
        ("[0-9]*.cfg", "10_a.cfg", true), ("[!0-9]*.cfg", "10_a.cfg", false), ("[]x]", "]", true),
        ("a[", "a[", true), ("\\*", "*", true), ("\\*", "x", false),
        ("ssh_host_*_key.pub", "ssh_host_ed25519_key.pub", true),
    ])
    func fileNameGlobs(_ pattern: String, _ name: String, _ expected: Bool) {
        #expect(Glob.matches(pattern, name) == expected)
    }

    @Test(.timeLimit(.minutes(1)))
    func pathologicalPatternsFinish() {
        let group = String(repeating: "a", count: 256)
        let stars = String(repeating: "*a", count: 12) + "*b"
        #expect(!SSHPattern.matches(stars, group))
        #expect(!Glob.matches(stars, group))
        let long = String(repeating: "*a", count: 50_000) + "*b"
        #expect(!SSHPattern.matches(long, String(repeating: "a", count: 100_000)))
        #expect(SSHPattern.matches(String(repeating: "?*", count: 256), group))
        #expect(!SSHPattern.matches(String(repeating: "?*", count: 257), group))
    }
}
