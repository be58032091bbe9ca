import Foundation

/// What an AMI's name, description and platform details say about logging in: the customary user
/// and whether ec2-instance-connect comes preinstalled. Read, never probed: plan and diagnose send
/// no SendSSHPublicKey.
public struct ImageLogin: Sendable, Equatable {
    /// The distribution's default login user, or nil when the image is not recognised.
    public var user: String?
    /// A short name of the distribution for messages (`Amazon Linux 2023`, `Debian`, …).
    public var family: String?
    /// ec2-instance-connect is preinstalled.
    public var hasInstanceConnect: Bool

    public init(user: String?, family: String?, hasInstanceConnect: Bool) {
        self.user = user
        self.family = family
        self.hasInstanceConnect = hasInstanceConnect
    }

    /// Default user names per distribution: AWS, "Manage system users on your Amazon EC2 Linux
    /// instance" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/managing-users.html).
    /// Instance Connect preinstalled on Amazon Linux 2 (2.0.20190618+), Amazon Linux 2023 and
    /// Ubuntu 20.04+: AWS, "EC2 Instance Connect prerequisites"
    /// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-connect-prerequisites.html).
    public static func of(name: String?, description: String?, platformDetails: String?) -> ImageLogin {
        let text = [name, description, platformDetails].compactMap { $0 }.joined(separator: " ").lowercased()
        func has(_ words: String...) -> Bool { words.contains { text.contains($0) } }
        if has("al2023", "amazon linux 2023") {
            return ImageLogin(user: "ec2-user", family: "Amazon Linux 2023", hasInstanceConnect: true)
        }
        if has("amzn2", "amazon linux 2") {
            return ImageLogin(user: "ec2-user", family: "Amazon Linux 2", hasInstanceConnect: true)
        }
        if has("ubuntu") {
            return ImageLogin(user: "ubuntu", family: "Ubuntu", hasInstanceConnect: ubuntuHasInstanceConnect(text))
        }
        let others: [(words: [String], user: String, family: String)] = [
            (["debian"], "admin", "Debian"), (["bitnami"], "bitnami", "Bitnami"), (["rocky"], "rocky", "Rocky Linux"),
            (["centos"], "centos", "CentOS"), (["fedora"], "fedora", "Fedora"),
            (["red hat", "rhel"], "ec2-user", "Red Hat Enterprise Linux"), (["suse", "sles"], "ec2-user", "SUSE"),
            (["oracle"], "ec2-user", "Oracle Linux"), (["amzn", "amazon linux"], "ec2-user", "Amazon Linux"),
        ]
        for entry in others where entry.words.contains(where: { text.contains($0) }) {
            return ImageLogin(user: entry.user, family: entry.family, hasInstanceConnect: false)
        }
        return ImageLogin(user: nil, family: nil, hasInstanceConnect: false)
    }

    /// Ubuntu 20.04 (focal) and later ship ec2-instance-connect; 18.04 and earlier do not.
    static func ubuntuHasInstanceConnect(_ text: String) -> Bool {
        let newer = ["focal", "jammy", "noble", "oracular", "plucky", "questing"]
        if newer.contains(where: { text.contains($0) }) { return true }
        guard let range = text.range(of: #"(\d{2})\.(04|10)"#, options: .regularExpression),
            let major = Int(text[range].prefix(2))
        else { return false }
        return major >= 20
    }
}
