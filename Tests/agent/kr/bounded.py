"""Target roots that make a careless reader hang, crash or fill memory: YAML nested 50,000 deep,
40,000-item user lists, `Include` over `a -> .` loops and 10,000 hard links, 200,000-account
passwd files, sshd_config and cloud.cfg of tens of MB, FIFOs where files are read. Each case says
what the agent must do with it (docs/AGENT.md, "Limits and refusals")."""
import hashlib
import os
import stat
from dataclasses import dataclass, field

from .fakeroot import RootSpec, populate, write
from .images import account

MiB = 1024 * 1024


@dataclass
class Outcome:
    """`keys_file` (relative to the root) for a write; else the exit code and the words the refusal
    must say on stderr, and the words it must not say."""
    keys_file: str | None = None
    rc: int = 0
    says: list = field(default_factory=list)
    never_says: list = field(default_factory=list)
    args: list = field(default_factory=list)


def _append(path, text):
    with open(path, "a") as f:
        f.write(text)


def _padded(path, first_lines, size):
    """`first_lines`, then comment lines up to `size` bytes (real bytes, not a sparse hole)."""
    line = "# " + "x" * 1021 + "\n"
    with open(path, "w") as f:
        f.write(first_lines)
        written = len(first_lines)
        block = line * 1024
        while written + len(block) <= size:
            f.write(block)
            written += len(block)
        while written + len(line) <= size:
            f.write(line)
            written += len(line)
        if written < size:
            f.write("#" * (size - written - 1) + "\n")


def _fifo(path):
    if os.path.lexists(path):
        os.remove(path)
    os.mkfifo(path, 0o644)


def yaml_flow_bomb(r):
    write(f"{r}/etc/cloud/cloud.cfg.d/90-bomb.cfg", "users: " + "[" * 50_000 + "\n")


def yaml_dash_bomb(r):
    write(f"{r}/etc/cloud/cloud.cfg.d/90-bomb.cfg", "users:\n" + "- " * 30_000 + "x\n")


def yaml_40k_users(r):
    items = "".join(f"  - name: u{i}\n    groups: [a, b]\n    shell: /bin/bash\n" for i in range(40_000))
    write(f"{r}/etc/cloud/cloud.cfg.d/50-users.cfg", "users:\n  - default\n" + items)


def yaml_4mb_of_tiny_items(r):
    """As many lines as the 4 MiB per-file limit allows: the parser's per-line cost, measured."""
    write(f"{r}/etc/cloud/cloud.cfg.d/50-users.cfg", "users:\n" + "- a\n" * (4 * MiB // 4 - 8))


def glob_star_bomb(r):
    _append(f"{r}/etc/group", "a" * 250 + ":x:2000:ubuntu\n")
    sshd = open(f"{r}/etc/ssh/sshd_config").read()
    write(f"{r}/etc/ssh/sshd_config",
          "DenyGroups " + "*a" * 12 + "*b\nDenyUsers " + "*u" * 12 + "*z\n" + sshd)


def include_loops_and_links(r):
    d = f"{r}/etc/ssh/sshd_config.d"
    _padded(f"{d}/x.conf", "AuthorizedKeysFile .ssh/keys_from_include\n", 4 * MiB)
    for i in range(10_000):
        os.link(f"{d}/x.conf", f"{d}/h{i:05}.conf")
    for name in ("a", "b", "c"):
        os.symlink(".", f"{d}/{name}")
    sshd = open(f"{r}/etc/ssh/sshd_config").read()
    write(f"{r}/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*/*/*/*/*/*/*.conf\n" + sshd)


def passwd_200k(r):
    _append(f"{r}/etc/passwd", "".join(f"user{i}:x:{10_000 + i}:{10_000 + i}::/home/user{i}:/bin/bash\n"
                                       for i in range(200_000)))
    _append(f"{r}/etc/group", "".join(f"user{i}:x:{10_000 + i}:ubuntu\n" for i in range(200_000)))
    # The login user last: every line before it is parsed.
    text = open(f"{r}/etc/passwd").read().splitlines(keepends=True)
    ubuntu = [l for l in text if l.startswith("ubuntu:")]
    write(f"{r}/etc/passwd", "".join(l for l in text if not l.startswith("ubuntu:")) + "".join(ubuntu))


def passwd_fifo(r):
    _fifo(f"{r}/etc/passwd")


def passwd_too_large(r):
    text = open(f"{r}/etc/passwd").read()
    _padded(f"{r}/etc/passwd", text, 70 * MiB)


def sshd_config_50mb(r):
    sshd = open(f"{r}/etc/ssh/sshd_config").read()
    _padded(f"{r}/etc/ssh/sshd_config", "AuthorizedKeysFile .ssh/authorized_keys_big\n" + sshd, 50 * MiB)


def sshd_config_too_large(r):
    _padded(f"{r}/etc/ssh/sshd_config", "AuthorizedKeysFile .ssh/authorized_keys_big\n", 70 * MiB)


def sshd_config_fifo(r):
    _fifo(f"{r}/etc/ssh/sshd_config")


def cloud_cfg_10mb(r):
    _append(f"{r}/etc/passwd", "deploy:x:1001:1001::/home/deploy:/bin/bash\n")
    os.makedirs(f"{r}/home/deploy", mode=0o700)
    os.chown(f"{r}/home/deploy", 1001, 1001)
    _padded(f"{r}/etc/cloud/cloud.cfg", "system_info:\n  default_user:\n    name: deploy\n", 10 * MiB)


def cloud_cfg_fifo(r):
    _fifo(f"{r}/etc/cloud/cloud.cfg")


CLOUD = "/etc/cloud/cloud.cfg"
# name -> (what it does to the root, what the agent must do)
CASES = {
    "yaml_flow_bomb": (yaml_flow_bomb, Outcome(rc=7, says=["/etc/cloud/cloud.cfg.d/90-bomb.cfg", "nests more than 64 levels"])),
    "yaml_dash_bomb": (yaml_dash_bomb, Outcome(rc=7, says=["/etc/cloud/cloud.cfg.d/90-bomb.cfg", "nests more than 64 levels"])),
    "yaml_40k_users": (yaml_40k_users, Outcome(keys_file=".ssh/authorized_keys")),
    "yaml_4mb_of_tiny_items": (yaml_4mb_of_tiny_items, Outcome(keys_file=".ssh/authorized_keys")),
    "glob_star_bomb": (glob_star_bomb, Outcome(keys_file=".ssh/authorized_keys")),
    "include_loops_and_links": (include_loops_and_links, Outcome(keys_file=".ssh/keys_from_include")),
    "passwd_200k": (passwd_200k, Outcome(keys_file=".ssh/authorized_keys")),
    "passwd_fifo": (passwd_fifo, Outcome(rc=5, says=["/etc/passwd on the target is a FIFO"], never_says=["not a Linux root"])),
    "passwd_too_large": (passwd_too_large, Outcome(rc=7, says=["/etc/passwd on the target is 70 MiB, more than the 64 MiB"])),
    "sshd_config_50mb": (sshd_config_50mb, Outcome(keys_file=".ssh/authorized_keys_big")),
    "sshd_config_too_large": (sshd_config_too_large, Outcome(
        rc=7, says=["/etc/ssh/sshd_config on the target is 70 MiB, more than the 64 MiB"])),
    "sshd_config_fifo": (sshd_config_fifo, Outcome(rc=5, says=["/etc/ssh/sshd_config on the target is a FIFO"])),
    "cloud_cfg_10mb": (cloud_cfg_10mb, Outcome(rc=7, says=[f"{CLOUD} on the target is 10 MiB, more than the 4 MiB", "--user"])),
    "cloud_cfg_10mb_with_user": (cloud_cfg_10mb, Outcome(keys_file=".ssh/authorized_keys", args=["--user", "deploy"])),
    "cloud_cfg_fifo": (cloud_cfg_fifo, Outcome(rc=5, says=[f"{CLOUD} on the target is a FIFO"])),
}


def bounded_root(directory, case):
    """An Ubuntu-like fake root (user ubuntu, uid 1000) with the case's trap laid."""
    populate(directory, RootSpec("ubuntu", "24.04", account("ubuntu"), cloud_default_user="ubuntu"))
    CASES[case][0](directory)
    return directory


def light_manifest(root):
    """Type, mode, owner, link target and a content hash (once per inode) of every entry: enough to
    see any change, without holding 10,000 links of a 4 MiB file in memory. FIFOs are not opened."""
    found, hashes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            entry = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_nlink)
            if stat.S_ISLNK(st.st_mode):
                entry += (os.readlink(p),)
            elif stat.S_ISREG(st.st_mode):
                if st.st_ino not in hashes:
                    with open(p, "rb") as f:
                        hashes[st.st_ino] = hashlib.file_digest(f, "sha256").hexdigest()
                entry += (hashes[st.st_ino],)
            found[os.path.relpath(p, root)] = entry
    return found
