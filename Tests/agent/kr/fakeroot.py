"""Minimal fake Linux roots: just the files the agent reads (os-release, passwd, group, cloud-init,
sshd_config, SSH host keys) and the login user's home. Ownership is numeric, as on the target."""
import os
from dataclasses import dataclass, field


@dataclass
class Account:
    name: str
    uid: int
    gid: int
    home: str
    shell: str = "/bin/bash"


@dataclass
class RootSpec:
    os_id: str
    version_id: str
    user: Account
    cloud_default_user: str | None = None
    selinux: str | None = None  # "permissive" / "enforcing": writes etc/selinux/config + contexts
    existing_keys: list[str] = field(default_factory=list)
    fstab: str = ""
    host_key_pub: str | None = None  # one `ssh-ed25519 AAAA… comment` line
    extra_accounts: list[Account] = field(default_factory=list)


SYSTEM_PASSWD = [
    "root:x:0:0:root:/root:/bin/bash",
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
    "sshd:x:74:74:Privilege-separated SSH:/usr/share/empty.sshd:/sbin/nologin",
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
]
SYSTEM_GROUP = ["root:x:0:", "daemon:x:1:", "sshd:x:74:", "nogroup:x:65534:"]

SSHD_CONFIG = """\
# fake target sshd_config
Include /etc/ssh/sshd_config.d/*.conf
PasswordAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
Subsystem sftp /usr/lib/openssh/sftp-server
"""

FILE_CONTEXTS_HOMEDIRS = """\
HOME_DIR/\\.ssh(/.*)?\tsystem_u:object_r:ssh_home_t:s0
HOME_DIR/\\.ssh/authorized_keys\tsystem_u:object_r:ssh_home_t:s0
"""


def write(path, text, mode=0o644, uid=0, gid=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def populate(root, spec: RootSpec):
    """Writes the fake root described by `spec` into the directory `root`."""
    for d in ("etc/ssh/sshd_config.d", "root", "tmp", "usr/bin", "var/log", "home"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.chmod(os.path.join(root, "root"), 0o700)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    accounts = [spec.user] + spec.extra_accounts
    passwd = SYSTEM_PASSWD + [f"{a.name}:x:{a.uid}:{a.gid}::{a.home}:{a.shell}" for a in accounts]
    group = SYSTEM_GROUP + [f"{a.name}:x:{a.gid}:" for a in accounts]
    write(f"{root}/etc/passwd", "\n".join(passwd) + "\n")
    write(f"{root}/etc/group", "\n".join(group) + "\n")
    write(f"{root}/etc/shadow", "".join(f"{a.name}:!:19000::::::\n" for a in accounts), 0o640)
    write(f"{root}/etc/os-release",
          f'NAME="{spec.os_id}"\nID={spec.os_id}\nVERSION_ID="{spec.version_id}"\n'
          f'PRETTY_NAME="{spec.os_id} {spec.version_id} (keyrescue test image)"\n')
    write(f"{root}/etc/ssh/sshd_config", SSHD_CONFIG)
    write(f"{root}/etc/fstab", spec.fstab or "# no fstab entries\n")
    if spec.host_key_pub:
        write(f"{root}/etc/ssh/ssh_host_ed25519_key.pub", spec.host_key_pub + "\n")
    if spec.cloud_default_user:
        write(f"{root}/etc/cloud/cloud.cfg",
              f"system_info:\n  default_user:\n    name: {spec.cloud_default_user}\n"
              "    lock_passwd: true\n  distro: test\n")
    if spec.selinux:
        write(f"{root}/etc/selinux/config", f"SELINUX={spec.selinux}\nSELINUXTYPE=targeted\n")
        write(f"{root}/etc/selinux/targeted/contexts/files/file_contexts.homedirs",
              FILE_CONTEXTS_HOMEDIRS)
    for a in accounts:
        home = root + a.home
        os.makedirs(home, exist_ok=True)
        os.chown(home, a.uid, a.gid)
        os.chmod(home, 0o700)
        write(f"{home}/.bashrc", "# test\n", 0o644, a.uid, a.gid)
    if spec.existing_keys:
        ssh_dir = root + spec.user.home + "/.ssh"
        os.makedirs(ssh_dir, exist_ok=True)
        os.chown(ssh_dir, spec.user.uid, spec.user.gid)
        os.chmod(ssh_dir, 0o700)
        write(f"{ssh_dir}/authorized_keys", "".join(k + "\n" for k in spec.existing_keys),
              0o600, spec.user.uid, spec.user.gid)
