"""Reading a root volume image from the host without running anything of it.

The VM boots the image's own kernel directly (QEMU -kernel/-initrd): faster than firmware + GRUB and
needs no boot loader in the image. This module finds the root partition, its PARTUUID (for
`root=PARTUUID=…`) and copies the newest /boot/vmlinuz-* and its initrd out of the image with debugfs
(ext2/3/4) — a user-space reader, so the image is never mounted and none of its code runs on the host.
XFS has no such reader: its /boot is read through a read-only loop device and mount
(`ro,norecovery,nouuid,nosuid,nodev,noexec`), unmounted and freed before returning.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

SECTOR = 512
# GPT type GUIDs of partitions that can hold a Linux root (generic data, x86-64 root).
LINUX_TYPES = {"0FC63DAF-8483-4772-8E79-3D69D8477DE4", "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"}
EXT_MAGIC_OFFSET = 1024 + 56
FILESYSTEM_MAGICS = ((EXT_MAGIC_OFFSET, b"\x53\xef", "ext4"), (0, b"XFSB", "xfs"))


@dataclass(frozen=True)
class RootPartition:
    number: int
    offset: int          # bytes from the start of the image
    size: int            # bytes
    partuuid: str        # as the kernel matches root=PARTUUID=…
    fstype: str = "ext4"  # ext4 (ext2/3/4, read with debugfs) or xfs (read through a ro mount)


class ImageError(Exception):
    """The image can't be booted directly; the message says why."""


def parse_partition_table(sfdisk_json: str) -> list[RootPartition]:
    """Linux partitions from `sfdisk --json` output, GPT or MBR, in table order."""
    table = json.loads(sfdisk_json)["partitiontable"]
    parts = []
    for index, p in enumerate(table.get("partitions", []), start=1):
        number = int(re.search(r"(\d+)$", p["node"]).group(1)) if "node" in p else index
        if table["label"] == "gpt":
            if p["type"].upper() not in LINUX_TYPES:
                continue
            partuuid = p["uuid"].lower()
        else:
            if p["type"].lower() not in ("83",):
                continue
            # The kernel names MBR partitions <disk signature>-<2-digit number>.
            partuuid = f"{int(table['id'], 16):08x}-{number:02x}"
        parts.append(RootPartition(number, p["start"] * SECTOR, p["size"] * SECTOR, partuuid))
    return parts


def find_root_partition(image: Path) -> RootPartition:
    """The first Linux partition that holds an ext2/3/4 or XFS filesystem."""
    out = subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, text=True)
    if out.returncode != 0:
        raise ImageError(f"{image}: no partition table sfdisk can read ({out.stderr.strip()}); "
                         "the vm runtime boots GPT or MBR disks with an ext4 or XFS root partition")
    candidates = parse_partition_table(out.stdout)
    with open(image, "rb") as f:
        for part in candidates:
            for offset, magic, fstype in FILESYSTEM_MAGICS:
                f.seek(part.offset + offset)
                if f.read(len(magic)) == magic:
                    return replace(part, fstype=fstype)
    raise ImageError(f"{image}: no Linux partition with an ext2/3/4 or XFS filesystem "
                     f"(found {len(candidates)} Linux partition(s))")


def _debugfs(image: Path, part: RootPartition, request: str) -> subprocess.CompletedProcess:
    # "file?offset=N" is e2fsprogs' unix_io option: debugfs reads the partition inside the image.
    return subprocess.run(["debugfs", "-R", request, f"{image}?offset={part.offset}"],
                          capture_output=True)


def newest_kernel(names: list[str], image: Path | str = "the image") -> tuple[str, str]:
    """(vmlinuz-V, initrd.img-V) for the highest version V that has both, from /boot's listing."""
    def version_key(v: str):
        return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", v)]
    versions = [n[len("vmlinuz-"):] for n in names
                if n.startswith("vmlinuz-") and f"initrd.img-{n[len('vmlinuz-'):]}" in names]
    if not versions:
        raise ImageError(f"{image}: no /boot/vmlinuz-V with a matching /boot/initrd.img-V to boot "
                         "directly (build the image from `rootfs_tarball vm`, which has linux-image-amd64)")
    v = max(versions, key=version_key)
    return f"vmlinuz-{v}", f"initrd.img-{v}"


def extract_kernel(image: Path, part: RootPartition, dest: Path) -> tuple[Path, Path]:
    """Copy the newest kernel and initrd out of the image's /boot into dest."""
    if part.fstype != "ext4":
        return _extract_by_mount(image, part, dest)
    listing = _debugfs(image, part, "ls -p /boot")
    if listing.returncode != 0:
        raise ImageError(f"{image}: debugfs can't read /boot: {listing.stderr.decode(errors='replace').strip()}")
    # `ls -p` lines: /inode/mode/uid/gid/name/size/
    names = [fields[5] for line in listing.stdout.decode(errors="replace").splitlines()
             if len(fields := line.split("/")) >= 7]
    kernel_name, initrd_name = newest_kernel(names, image)
    paths = []
    for name in (kernel_name, initrd_name):
        target = dest / name
        done = _debugfs(image, part, f"dump /boot/{name} {target}")
        if done.returncode != 0 or not target.exists() or target.stat().st_size == 0:
            raise ImageError(f"{image}: can't copy /boot/{name}: {done.stderr.decode(errors='replace').strip()}")
        paths.append(target)
    return paths[0], paths[1]


def _extract_by_mount(image: Path, part: RootPartition, dest: Path) -> tuple[Path, Path]:
    loop = subprocess.run(["losetup", "--find", "--show", "--read-only", "--offset", str(part.offset),
                           "--sizelimit", str(part.size), str(image)], capture_output=True, text=True)
    if loop.returncode != 0:
        raise ImageError(f"{image}: no loop device to read its {part.fstype} /boot: {loop.stderr.strip()}")
    device = loop.stdout.strip()
    mnt = Path(tempfile.mkdtemp(prefix="localcloud-vm-boot-"))
    try:
        options = "ro,norecovery,nouuid,nosuid,nodev,noexec" if part.fstype == "xfs" else "ro,nosuid,nodev,noexec"
        mount = subprocess.run(["mount", "-t", part.fstype, "-o", options, device, str(mnt)],
                               capture_output=True, text=True)
        if mount.returncode != 0:
            raise ImageError(f"{image}: can't mount its {part.fstype} root read-only: {mount.stderr.strip()}")
        try:
            boot = mnt / "boot"
            # Regular files only: a symlink in a hostile image could point anywhere on the host.
            names = [p.name for p in boot.iterdir() if p.is_file() and not p.is_symlink()] if boot.is_dir() else []
            kernel_name, initrd_name = newest_kernel(names, image)
            for name in (kernel_name, initrd_name):
                shutil.copyfile(boot / name, dest / name, follow_symlinks=False)
        finally:
            subprocess.run(["umount", str(mnt)], check=False)
    finally:
        subprocess.run(["losetup", "-d", device], check=False)
        mnt.rmdir()
    return dest / kernel_name, dest / initrd_name
