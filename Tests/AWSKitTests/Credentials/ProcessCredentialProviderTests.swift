@testable import AWSKit
import Foundation
import Testing

@Suite struct ProcessCredentialProviderTests {
    /// A shell script in a temporary HOME that prints `output` and exits with `status`.
    func script(_ home: TemporaryHome, output: String, status: Int = 0) throws -> String {
        try home.write("creds.sh", "#!/bin/sh\ncat <<'JSON'\n\(output)\nJSON\nexit \(status)\n", mode: 0o700)
        return "\(home.path)/creds.sh"
    }

    @Test func readsVersionOneJSONWithExpiration() async throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        let path = try script(
            home,
            output:
                #"{"Version": 1, "AccessKeyId": "ASIAPROC", "SecretAccessKey": "proc-secret", "SessionToken": "proc-token", "Expiration": "2026-11-25T08:00:00Z"}"#
        )
        let creds = try await ProcessCredentialProvider(command: "'\(path)' --profile \"a b\"").credentials()
        #expect(creds.accessKeyId == "ASIAPROC" && creds.sessionToken == "proc-token")
        #expect(creds.expiration == Date(timeIntervalSince1970: 1_795_593_600))
    }

    @Test func failuresAreClearAndSecretFree() async throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        var path = try script(
            home, output: #"{"Version": 1, "AccessKeyId": "ASIAPROC", "SecretAccessKey": "proc-secret"}"#, status: 3)
        await #expect { try await ProcessCredentialProvider(command: path).credentials() } throws: {
            "\($0)".contains("status 3")
        }
        path = try script(home, output: #"{"Version": 2, "AccessKeyId": "ASIAPROC", "SecretAccessKey": "proc-secret"}"#)
        await #expect { try await ProcessCredentialProvider(command: path).credentials() } throws: { error in
            "\(error)".contains("Version 2") && !"\(error)".contains("proc-secret")
        }
        path = try script(
            home,
            output:
                #"{"Version": 1, "AccessKeyId": "ASIAPROC", "SecretAccessKey": "proc-secret", "Expiration": "soon"}"#)
        await #expect { try await ProcessCredentialProvider(command: path).credentials() } throws: {
            !"\($0)".contains("proc-secret")
        }
    }

    @Test func splitsLikeAShell() throws {
        #expect(try ProcessCredentialProvider.split(#"a 'b c' "d \"e\"" f\ g"#) == ["a", "b c", #"d "e""#, "f g"])
        #expect(try ProcessCredentialProvider.split("  ") == [])
        #expect { try ProcessCredentialProvider.split("a 'b") } throws: {
            ($0 as? AWSError)?.isCredentialFailure == true
        }
    }
}
