/// Default login users of EC2 images by os-release `ID`, in the order to try (first one present in
/// the target's passwd wins). Source: AWS EC2 User Guide, "Manage system users on your Amazon EC2
/// Linux instance" (default usernames: Amazon Linux ec2-user; CentOS centos or ec2-user; Debian admin;
/// Fedora fedora or ec2-user; RHEL ec2-user or root; SUSE ec2-user or root; Ubuntu ubuntu; Oracle
/// ec2-user; Bitnami bitnami). Rocky Linux's and AlmaLinux's official AMIs use `rocky` and `ec2-user`
/// (their cloud images' cloud.cfg). root is never chosen from the table: it must be asked for.
public enum LoginUserTable {
    public static let byDistroID: [String: [String]] = [
        "amzn": ["ec2-user"],
        "rhel": ["ec2-user"],
        "sles": ["ec2-user"],
        "sle-micro": ["ec2-user"],
        "opensuse-leap": ["ec2-user"],
        "ol": ["ec2-user"],
        "ubuntu": ["ubuntu"],
        "debian": ["admin"],
        "centos": ["centos", "ec2-user"],
        "fedora": ["fedora", "ec2-user"],
        "rocky": ["rocky", "ec2-user"],
        "almalinux": ["ec2-user", "almalinux"],
        "bitnami": ["bitnami"],
        "freebsd": ["ec2-user"],
        "flatcar": ["core"],
        "fedora-coreos": ["core"],
        "kali": ["kali"],
        "arch": ["arch"],
    ]

    /// Bitnami images are Debian underneath: their os-release says debian, their home says bitnami.
    public static func candidates(distroID: String) -> [String] {
        byDistroID[distroID.lowercased()] ?? []
    }
}
