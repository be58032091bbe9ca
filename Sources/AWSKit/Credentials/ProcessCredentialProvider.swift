import Foundation

/// A profile's `credential_process`: runs the command (split like a POSIX shell would, but not
/// run through one) and reads its JSON (`Version: 1`, `AccessKeyId`, `SecretAccessKey`,
/// `SessionToken`, optional `Expiration`). Its stderr goes to ours, as the CLI does.
public struct ProcessCredentialProvider: CredentialProvider, CustomStringConvertible {
    public let command: String

    public init(command: String) { self.command = command }

    public func credentials() async throws -> Credentials {
        let argv = try Self.split(command)
        guard !argv.isEmpty else { throw AWSError.credentials("credential_process is empty") }
        let output = try await Task.detached { try Self.run(argv) }.value
        guard output.status == 0 else {
            throw AWSError.credentials("credential_process \(argv[0]) exited with status \(output.status)")
        }
        if let object = try? JSONSerialization.jsonObject(with: output.stdout) as? [String: Any],
            let version = object["Version"] as? Int, version != 1
        {
            throw AWSError.credentials("credential_process \(argv[0]) returned Version \(version); only 1 is supported")
        }
        return try CredentialsJSON.decode(output.stdout, source: "credential_process \(argv[0])")
    }

    private static func run(_ argv: [String]) throws -> (status: Int32, stdout: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--"] + argv
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw AWSError.credentials("cannot start credential_process \(argv[0]): \(error)")
        }
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }

    /// POSIX-shell-like word splitting: whitespace, single and double quotes, backslashes.
    static func split(_ command: String) throws -> [String] {
        var words = [String]()
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in command {
            if escaped {
                word.append(c)
                escaped = false
            } else if c == "\\" && quote != "'" {
                escaped = true
                inWord = true
            } else if let q = quote {
                if c == q { quote = nil } else { word.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
                inWord = true
            } else if c.isWhitespace {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else {
                word.append(c)
                inWord = true
            }
        }
        guard quote == nil, !escaped else {
            throw AWSError.credentials("credential_process has an unterminated quote or escape")
        }
        if inWord { words.append(word) }
        return words
    }

    public var description: String { "credential_process \(command)" }
}
