import Foundation
import Glibc
import RescueModel

/// The key a reset installs: a public key file the user gives, or a pair generated here.
public struct ResetKeys: Sendable, Equatable {
    /// The OpenSSH public key line.
    public var publicLine: String
    /// The private key, when at hand (generated, or beside the .pub): `--verify ssh` logs in with it.
    public var privatePath: String?

    public init(publicLine: String, privatePath: String?) {
        self.publicLine = publicLine
        self.privatePath = privatePath
    }

    /// `--generate-key PATH` or `--public-key FILE` (exactly one is given; the CLI checks that).
    public static func load(publicKey: String?, generateKey: String?, instanceID: String) throws -> ResetKeys {
        if let path = generateKey {
            let pair = try KeyGenerator.generate(at: path, comment: "keyrescue@\(instanceID)")
            return ResetKeys(publicLine: pair.publicLine, privatePath: pair.privatePath)
        }
        let path = publicKey ?? ""
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ControllerError.badInput(
                "cannot read \(path): \(Self.whyUnreadable(path))",
                next: "pass --public-key with the path of an OpenSSH public key file (e.g. ~/.ssh/id_ed25519.pub)")
        }
        do {
            let key = try PublicKey(parsing: text)
            let privatePath = path.hasSuffix(".pub") ? String(path.dropLast(4)) : nil
            return ResetKeys(
                publicLine: key.line,
                privatePath: privatePath.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil })
        } catch {
            throw ControllerError.badInput(
                "\(path): \(error)",
                next: "pass --public-key with the .pub file (one OpenSSH public key line), or use --generate-key PATH")
        }
    }

    /// The system's reason (no such file, permission denied, a directory), or "not UTF-8 text".
    static func whyUnreadable(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1)
        return read(fd, &buffer, 1) < 0 ? String(cString: strerror(errno)) : "not UTF-8 text"
    }
}
