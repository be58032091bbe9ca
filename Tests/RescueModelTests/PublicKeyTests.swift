import RescueModel
import Testing

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Keys made with ssh-keygen (OpenSSH 9.2) and the fingerprints `ssh-keygen -lf` printed for them.
enum KeyFixtures {
    static let ed25519 =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHxaCx7/Rgn4GOE3RaMk8CBa4caRfkNmZbWzG5Gzw+R fixture@ed25519"
    static let ecdsa256 =
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBDCm5Pb4KTguPxAFPIQzMRYuQQJ0X5wQWYV0SJuX3ysdgpwqBWDJSURsbIY/TarIyV+T/+1uNAwHQOEfzgfaOOk= fixture@ecdsab256"
    static let ecdsa384 =
        "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBIKc3WbBthD6dr6pIU6dUTgctAKQDGPLX2OjwE84aOGkUjGUJHXmIY8ij9u1aU01oYVVbNHNy5D28gvKQklcKtYYavNLaitH+56ZrinR0KdKE5UgG+Yf/YBrPJpWnPDVwQ== fixture@ecdsab384"
    static let ecdsa521 =
        "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAFHO7dwKneMv6jBphzADSrCOwQWbQwJg19sM6SMtaWDsKk0c5cQQvBOqeOUqcu/+81uIXMX1HtCHXvHAf8A3BHs7wHBGqks5RvWyDk0aSnBYPh1RtJvEDWkYj4ikSwyMWJuWXcySuhqt7is1Z3KlCLIzGhLXmRpn/QNmMhjuljYqZJ2uQ== fixture@ecdsab521"
    static let rsa2048 =
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCdWnGyrctmo490jsXzW1Ktxo1fuJsdFgG+DIj9XDRwqqBbKkVcKdnfW92WTrwiaPW0gCFOJ6Bw8yucDBVq0pHXH4SkkWqU2bTRqs1ihcbZyq7RfNnU3NlLohoic0nkEmPKD/g61qF6afGWk+BYJMlzczKD+KxK5FJUZFxAiZjsEDGWBC4RiMpUa0RoCq3YnkOTeyD6GjSPDmqJln0JycZnT/bTIqVcI+L3YuuRgnr7Z/mn2FyPdWjjmku2NItt0WYTJjwTZorNfQ55ltaKwxXwLtWHxGS0V2TTpd3YKVfnjmHh2dHWvtmSzRLCVYX9r8eA5qm3SsAmqZzRX9Okx1YX fixture@rsab2048"
    static let skEd25519 =
        "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fAAAABHNzaDo= sk@test"
    static let skEcdsa =
        "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEc3NoOg== sk2@test"

    static let all: [(String, PublicKey.KeyType, String)] = [
        (ed25519, .ed25519, "SHA256:nXk3eY7UR7SaoRPC5UciMdJZnxXay0RPMVdJ4xw7nUs"),
        (ecdsa256, .ecdsaP256, "SHA256:aE70iTPNFNp488ZsaXnaYcPT/VhksM2lNFLfvlY+nj0"),
        (ecdsa384, .ecdsaP384, "SHA256:aUO2Wupzg51LHGavHlKcVL/xutymrzSTeC+oLKXR6hY"),
        (ecdsa521, .ecdsaP521, "SHA256:AbTXXQGAAgaUx/kbBsvVv9Td4JoaOaNylQiPmcsy2oA"),
        (rsa2048, .rsa, "SHA256:eHnU/cf50pl7EGKvI8tjQ6cJ/l5P1AB8JhDl2Z+BG18"),
        (skEd25519, .skEd25519, "SHA256:/p0CbeE3dk2SyW1OXXsThGc12ezDVD8eGw2/vtztDfk"),
    ]
}

@Suite struct PublicKeyTests {
    @Test(arguments: KeyFixtures.all)
    func acceptsRealKeysWithSshKeygenFingerprints(line: String, type: PublicKey.KeyType, fingerprint: String) throws {
        let key = try PublicKey(parsing: line + "\n")
        #expect(key.type == type)
        #expect(key.fingerprint == fingerprint)
        #expect(key.line == line)
    }

    @Test func securityKeyEcdsaIsAccepted() throws {
        #expect(try PublicKey(parsing: KeyFixtures.skEcdsa).type == .skEcdsaP256)
    }

    @Test func rsaBitsAreCounted() throws {
        #expect(try PublicKey(parsing: KeyFixtures.rsa2048).bits == 2048)
    }

    @Test func commentIsOptionalAndMayHoldSpaces() throws {
        let bare = String(KeyFixtures.ed25519.split(separator: " ").prefix(2).joined(separator: " "))
        #expect(try PublicKey(parsing: bare).comment == nil)
        #expect(try PublicKey(parsing: bare + "\t my  laptop \r\n").comment == "my  laptop")
    }

    static func expectError(_ text: String, _ expected: PublicKeyError) {
        #expect(throws: expected) { try PublicKey(parsing: text) }
    }

    @Test(arguments: [
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n",
        "-----BEGIN EC PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n",
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n",
    ])
    func privateKeysAreRefused(text: String) {
        Self.expectError(text, .privateKey)
        #expect(PublicKeyError.privateKey.description.contains("that is a private key; give the .pub file"))
    }

    @Test func oddInputsGetTheirOwnErrors() {
        Self.expectError("", .empty)
        Self.expectError("  \n", .empty)
        Self.expectError(KeyFixtures.ed25519 + "\n" + KeyFixtures.rsa2048, .multipleLines)
        Self.expectError("command=\"/bin/true\",no-pty " + KeyFixtures.ed25519, .hasOptions)
        Self.expectError("no-pty " + KeyFixtures.ed25519, .hasOptions)
        Self.expectError("ssh-dss AAAAB3NzaC1kc3MAAACBAP", .unsupportedType("ssh-dss"))
        Self.expectError("hello world", .notAKey)
        Self.expectError("ssh-ed25519", .missingBlob)
        Self.expectError("ssh-ed25519 AAAAC3Nza!C1lZDI1NTE5", .badBase64)
        Self.expectError("---- BEGIN SSH2 PUBLIC KEY ----\nComment: x\n", .rfc4716)
    }

    @Test func typeMismatchIsDetected() {
        let ed = KeyFixtures.ed25519.split(separator: " ")
        Self.expectError("ssh-rsa \(ed[1])", .typeMismatch(line: "ssh-rsa", blob: "ssh-ed25519"))
        let p256 = KeyFixtures.ecdsa256.split(separator: " ")
        Self.expectError(
            "ecdsa-sha2-nistp384 \(p256[1])", .typeMismatch(line: "ecdsa-sha2-nistp384", blob: "ecdsa-sha2-nistp256"))
    }

    /// Every cut of every real key must be refused (never silently accepted as a shorter key).
    @Test(arguments: KeyFixtures.all.map(\.0))
    func everyTruncationIsRefused(line: String) throws {
        let blob = try PublicKey(parsing: line).blob
        for length in 0..<blob.count {
            let cut = "\(line.split(separator: " ")[0]) \(Data(blob.prefix(length)).base64EncodedString())"
            #expect(throws: PublicKeyError.self) { try PublicKey(parsing: cut) }
        }
        let extended = "\(line.split(separator: " ")[0]) \(Data(blob + [0]).base64EncodedString())"
        #expect(throws: PublicKeyError.malformedBlob("1 unexpected bytes after the key")) {
            try PublicKey(parsing: extended)
        }
    }

    @Test func shortRsaIsRefused() throws {
        // e = 65537, n = 1024-bit value (top bit set).
        var blob = sshString(Array("ssh-rsa".utf8)) + sshString([1, 0, 1])
        blob += sshString([0x00] + [0xc0] + [UInt8](repeating: 0x11, count: 127))
        Self.expectError("ssh-rsa \(Data(blob).base64EncodedString())", .rsaTooShort(bits: 1024))
    }

    func sshString(_ bytes: [UInt8]) -> [UInt8] {
        let n = UInt32(bytes.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + bytes
    }
}
