import Testing

@testable import RescueController

/// Expected values from OpenSSH and OpenSSL, as AWS's "Verify your key pair's fingerprint" computes them:
/// `ssh-keygen -ef KEY -m PEM | openssl rsa -RSAPublicKey_in -outform DER | openssl md5 -c` and `ssh-keygen -lf KEY.pub`.
@Suite struct KeyFingerprintTests {
    static let rsa =
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCtSO4rq512CYhClgvwED/WEys+YQiA5C4Hj2qZ6K9+evZpZ9FO3E/hS1cA9bG+n6urUns+bIz74CIVRbfyzp8p4Aq+K/9iC3NLrBN93UoIy6HYmVnxeksk3wcQf+pzCFNaGImRQL+VVlFLXRNpR7kpV+uB45fi9LmS9RF4/maWmQ== t"
    static let rsaMD5 = "19:f7:f0:9f:f7:d2:e9:a5:99:86:35:bb:99:73:92:0f"
    static let ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKvCFjU3G22f5WqEuDVsJR98kz2dQsjRWq+NZBmr2LrO t"
    static let ed25519SHA256 = "2nkhj1dRPkVAaR3QmI6mQ9WM/jwWJozOFKrDxnGTzH0="

    @Test func importedRSAIsMD5OfTheDERPublicKey() {
        #expect(KeyFingerprint.ec2(publicKeyLine: Self.rsa) == Self.rsaMD5)
    }
    @Test func ed25519IsBase64SHA256() {
        #expect(KeyFingerprint.ec2(publicKeyLine: Self.ed25519) == Self.ed25519SHA256)
    }
    @Test func otherLinesHaveNone() {
        #expect(KeyFingerprint.ec2(publicKeyLine: "ecdsa-sha2-nistp256 AAAA t") == nil)
        #expect(KeyFingerprint.ec2(publicKeyLine: "not a key") == nil)
    }

    @Test func longDERLengthsUseTheLongForm() {
        #expect(KeyFingerprint.der(0x04, [UInt8](repeating: 1, count: 300)).prefix(4) == [0x04, 0x82, 0x01, 0x2C])
        #expect(KeyFingerprint.der(0x04, [1, 2]) == [0x04, 0x02, 1, 2])
    }

    @Test func matchingFindsTheFileWhateverTheCaseOrPadding() {
        let keys = [
            (path: "/h/.ssh/a.pub", contents: Self.ed25519 + "\n"), (path: "/h/.ssh/b.pub", contents: Self.rsa),
        ]
        #expect(
            KeyMatch.of(ec2Fingerprint: Self.rsaMD5.uppercased(), publicKeys: keys) == .matches(path: "/h/.ssh/b.pub"))
        #expect(
            KeyMatch.of(ec2Fingerprint: "2nkhj1dRPkVAaR3QmI6mQ9WM/jwWJozOFKrDxnGTzH0", publicKeys: keys)
                == .matches(path: "/h/.ssh/a.pub"))
        #expect(
            KeyMatch.of(ec2Fingerprint: "2NKHJ1dRPkVAaR3QmI6mQ9WM/jwWJozOFKrDxnGTzH0=", publicKeys: keys)
                == .noMatch(checked: 2))
    }

    @Test func ec2CreatedRSAAndNoKeyPairCannotBeTold() {
        let sha1 = (0..<20).map { _ in "ab" }.joined(separator: ":")
        guard case .cannotTell(let why) = KeyMatch.of(ec2Fingerprint: sha1, publicKeys: []) else {
            Issue.record("a SHA-1 fingerprint cannot be matched with public keys")
            return
        }
        #expect(why.contains("private key"))
        #expect(KeyMatch.of(ec2Fingerprint: nil, publicKeys: []) != .noMatch(checked: 0))
    }
}
