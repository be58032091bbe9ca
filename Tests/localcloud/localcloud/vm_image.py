"""A small builder of bootable Debian disk images for the vm runtime's tests.

rootfs tarball (scripts/lib/rootfs.sh, flavour `vm`) → GPT disk with one ext4 partition, made with
`mkfs.ext4 -d` (no mount, no loop device), a login user with a key, and its own SSH host keys.
Nothing of the image runs on the host: users are added by editing the files, host keys are made by
the host's ssh-keygen. The local cloud has its own seed builder; any image it makes boots the same
way as long as it holds /boot/vmlinuz-* and its initrd (see docs/LOCALCLOUD-VM.md).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

MIB = 1024 * 1024
ROOT_UUID_TYPE = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"


def rootfs_tarball(repo: Path, flavour: str = "vm") -> Path:
    """The cached rootfs tarball (built once by scripts/lib/rootfs.sh)."""
    out = subprocess.run(["bash", "-c", f'source "{repo}/scripts/lib/rootfs.sh" && rootfs_tarball {flavour}'],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip().splitlines()[-1])


def add_user(root: Path, user: str, uid: int = 1000) -> None:
    """Append a login user (bash, home in /home, locked password) to the image's account files."""
    def append(rel: str, line: str) -> None:
        with open(root / rel, "a") as f:
            f.write(line + "\n")
    append("etc/passwd", f"{user}:x:{uid}:{uid}:{user}:/home/{user}:/bin/bash")
    append("etc/group", f"{user}:x:{uid}:")
    append("etc/shadow", f"{user}:*:19000:0:99999:7:::")
    append("etc/gshadow", f"{user}:!::")
    home = root / "home" / user
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, uid, uid)
    home.chmod(0o755)


def install_key(root: Path, user: str, public_key: str, uid: int = 1000) -> None:
    ssh = root / "home" / user / ".ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    keys = ssh / "authorized_keys"
    keys.write_text(public_key.strip() + "\n")
    for p in (ssh, keys):
        os.chown(p, uid, uid)
    keys.chmod(0o600)


def build_disk(tree: Path, out: Path, size_mib: int = 2048) -> None:
    """GPT disk image (sparse) whose partition 1 is an ext4 filesystem populated from tree."""
    fs = out.with_name(out.name + ".fs")
    try:
        fs_mib = size_mib - 2          # 1 MiB before the partition, backup GPT after it
        subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", str(tree), str(fs), f"{fs_mib}M"],
                       check=True, capture_output=True)
        with open(out, "wb") as f:
            f.truncate(size_mib * MIB)
        subprocess.run(["sgdisk", "-n", f"1:2048:+{fs_mib}M", "-t", f"1:{ROOT_UUID_TYPE}", "-c", "1:root",
                        str(out)], check=True, capture_output=True)
        subprocess.run(["dd", f"if={fs}", f"of={out}", "bs=1M", "seek=1", "conv=notrunc,sparse",
                        "status=none"], check=True)
    finally:
        fs.unlink(missing_ok=True)


def build_debian_image(tarball: Path, out: Path, *, user: str = "admin", public_key: str | None = None,
                       size_mib: int = 2048) -> None:
    """A bootable Debian disk: the tarball, `user` with public_key, fresh SSH host keys."""
    with tempfile.TemporaryDirectory(prefix="vm-image-", dir=out.parent) as tmp:
        tree = Path(tmp) / "root"
        tree.mkdir()
        subprocess.run(["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", str(tarball),
                        "-C", str(tree)], check=True)
        (tree / "etc/hostname").write_text("localcloud\n")
        add_user(tree, user)
        if public_key:
            install_key(tree, user, public_key)
        subprocess.run(["ssh-keygen", "-A", "-f", str(tree)], check=True, capture_output=True)
        build_disk(tree, out, size_mib)
        shutil.rmtree(tree)
