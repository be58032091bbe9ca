import RescueModel
import Testing

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

@Suite struct AuthorizedKeysTests {
    static let date = Date(timeIntervalSince1970: 1_795_587_000)  // 2026-11-25T06:10:00Z
    static let marker = "# keyrescue kr-1 2026-11-25T06:10:00Z"
    let newKey = Self.parsed(KeyFixtures.ed25519)
    let otherKey = Self.parsed(KeyFixtures.rsa2048)

    static func parsed(_ line: String) -> PublicKey {
        do { return try PublicKey(parsing: line) } catch { fatalError("fixture key does not parse: \(error)") }
    }

    func edit(_ text: String?, replace: Bool = false, keys: [PublicKey]? = nil) -> AuthorizedKeys.Edit {
        AuthorizedKeys.edit(
            existing: text.map { Array($0.utf8) }, adding: keys ?? [newKey], runID: "kr-1", date: Self.date,
            replace: replace)
    }

    func text(_ e: AuthorizedKeys.Edit) -> String { String(decoding: e.content, as: UTF8.self) }

    @Test func timestampFormat() {
        #expect(UTCTimestamp.format(secondsSince1970: 0) == "1970-01-01T00:00:00Z")
        #expect(UTCTimestamp.format(secondsSince1970: 951_782_400) == "2000-02-29T00:00:00Z")
        #expect(UTCTimestamp.format(secondsSince1970: 1_795_587_000) == "2026-11-25T06:10:00Z")
        #expect(UTCTimestamp.format(secondsSince1970: -1) == "1969-12-31T23:59:59Z")
        #expect(UTCTimestamp.format(secondsSince1970: 4_102_444_799) == "2099-12-31T23:59:59Z")
    }

    @Test func markerSanitisesRunID() {
        #expect(
            AuthorizedKeys.marker(runID: "kr-1\nssh-rsa evil", date: Self.date)
                == "# keyrescue kr-1ssh-rsaevil 2026-11-25T06:10:00Z")
    }

    @Test func newFile() {
        let e = edit(nil)
        #expect(e.changed && !e.alreadyPresent)
        #expect(text(e) == "\(Self.marker)\n\(KeyFixtures.ed25519)\n")
    }

    @Test func appendKeepsEverythingAndOrder() {
        let old = "# my keys\n\nno-pty,command=\"echo a b\" \(KeyFixtures.rsa2048)\n  \n"
        let e = edit(old)
        #expect(e.changed && e.removed.isEmpty)
        #expect(text(e) == old + "\(Self.marker)\n\(KeyFixtures.ed25519)\n")
    }

    @Test func missingFinalNewlineIsAdded() {
        #expect(text(edit("# x")) == "# x\n\(Self.marker)\n\(KeyFixtures.ed25519)\n")
    }

    @Test func crlfFileKeepsItsStyle() {
        let old = "# a\r\n\(KeyFixtures.rsa2048)\r\n"
        #expect(text(edit(old)) == old + "\(Self.marker)\r\n\(KeyFixtures.ed25519)\r\n")
    }

    @Test(arguments: [
        "\(KeyFixtures.ed25519)\n",
        "no-pty-is-not-a-type \(KeyFixtures.rsa2048)\n\(KeyFixtures.ed25519)\n",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHxaCx7/Rgn4GOE3RaMk8CBa4caRfkNmZbWzG5Gzw+R other comment\r\n",
        "  \tssh-ed25519   AAAAC3NzaC1lZDI1NTE5AAAAIBHxaCx7/Rgn4GOE3RaMk8CBa4caRfkNmZbWzG5Gzw+R",
    ])
    func alreadyPresentIsUnchanged(old: String) {
        let e = edit("# hi\n" + old)
        #expect(!e.changed && e.alreadyPresent)
        #expect(text(e) == "# hi\n" + old)
    }

    @Test func commentedOutKeyDoesNotCount() {
        let e = edit("# \(KeyFixtures.ed25519)\n")
        #expect(e.changed && !e.alreadyPresent)
    }

    @Test func replaceKeepsOnlyNewKey() {
        let old = "# mine\n\(KeyFixtures.rsa2048)\n\(KeyFixtures.ecdsa256)\n"
        let e = edit(old, replace: true)
        #expect(e.changed)
        #expect(text(e) == "\(Self.marker)\n\(KeyFixtures.ed25519)\n")
        #expect(e.removed == ["# mine", KeyFixtures.rsa2048, KeyFixtures.ecdsa256])
    }

    @Test func replaceWhenOnlyTheKeyIsThereIsUnchanged() {
        let old = "# earlier run\n\(KeyFixtures.ed25519)\n"
        let e = edit(old, replace: true)
        #expect(!e.changed && e.alreadyPresent && e.removed.isEmpty)
    }

    @Test func replaceWithKeyAmongOthersRemovesOthers() {
        let e = edit("\(KeyFixtures.rsa2048)\n\(KeyFixtures.ed25519) old\n", replace: true)
        #expect(e.changed && e.alreadyPresent)
        #expect(e.removed == [KeyFixtures.rsa2048])
    }

    @Test func invalidUTF8AndGarbageAreKeptByteForByte() {
        var old: [UInt8] = Array("# caf".utf8) + [0xe9, 0xff] + [10] + Array("garbage line !!\n".utf8)
        old += Array("ssh-rsa notbase64!!\n".utf8)
        let e = AuthorizedKeys.edit(existing: old, adding: [newKey], runID: "kr-1", date: Self.date, replace: false)
        #expect(Array(e.content.prefix(old.count)) == old)
    }

    @Test func severalKeysAddOnlyMissingOnes() {
        let e = edit("\(KeyFixtures.rsa2048)\n", keys: [otherKey, newKey])
        #expect(text(e) == "\(KeyFixtures.rsa2048)\n\(Self.marker)\n\(KeyFixtures.ed25519)\n")
    }

    @Test func identityIgnoresOptionsAndComment() {
        let a = AuthorizedKeysLine.identity(of: Array("no-pty \(KeyFixtures.ed25519)".utf8))
        let b = AuthorizedKeysLine.identity(of: Array(KeyFixtures.ed25519.utf8))
        #expect(a != nil && a == b)
        #expect(AuthorizedKeysLine.identity(of: Array("# \(KeyFixtures.ed25519)".utf8)) == nil)
        #expect(AuthorizedKeysLine.identity(of: Array("command=\"unterminated ssh-ed25519 AAAA".utf8)) == nil)
    }

    /// sshd applies the options of the first line holding the key: behind `command=` the user gets
    /// no shell, behind `from=` no login from here. The key goes in plainly, just before that line.
    @Test(arguments: [
        "from=\"10.0.0.0/8\",command=\"/bin/sh -c \\\"x y\\\"\"",
        "restrict",
        "command=\"echo no\",no-pty",
        "cert-authority",
    ])
    func keyBehindOptionsIsAddedPlainlyBeforeThatLine(options: String) {
        let old = "# hi\n\(KeyFixtures.rsa2048)\n\(options) \(KeyFixtures.ed25519)\n# tail\n"
        let e = edit(old)
        #expect(e.changed && !e.alreadyPresent)
        #expect(e.keysBehindOptions == ["\(options) \(KeyFixtures.ed25519)"])
        #expect(
            text(e)
                == "# hi\n\(KeyFixtures.rsa2048)\n\(Self.marker)\n\(KeyFixtures.ed25519)\n\(options) \(KeyFixtures.ed25519)\n# tail\n"
        )
        #expect(AuthorizedKeys.missing([newKey], in: Array(old.utf8)) == [newKey])
        #expect(AuthorizedKeys.missing([newKey], in: e.content).isEmpty)
        let again = edit(text(e))
        #expect(!again.changed && again.alreadyPresent, "idempotent: the plain line now comes first")
    }

    @Test func aPlainLineAfterAnOptionedOneDoesNotCount() {
        let old = "command=\"true\" \(KeyFixtures.ed25519)\n\(KeyFixtures.ed25519)\n"
        let e = edit(old)
        #expect(e.changed && text(e) == "\(Self.marker)\n\(KeyFixtures.ed25519)\n" + old)
    }

    @Test func replaceDropsTheKeyBehindOptions() {
        let e = edit("restrict \(KeyFixtures.ed25519)\n", replace: true)
        #expect(e.changed && !e.alreadyPresent)
        #expect(text(e) == "\(Self.marker)\n\(KeyFixtures.ed25519)\n")
        #expect(e.removed == ["restrict \(KeyFixtures.ed25519)"])
    }

    @Test func parseReportsTheOptionsAsWritten() {
        let line = "from=\"a b\",no-pty  \(KeyFixtures.ed25519)"
        #expect(AuthorizedKeysLine.parse(Array(line.utf8))?.options == "from=\"a b\",no-pty")
        #expect(AuthorizedKeysLine.parse(Array(KeyFixtures.ed25519.utf8))?.hasOptions == false)
    }
}
