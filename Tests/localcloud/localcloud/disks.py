"""EBS volumes and snapshots as image files in the cloud's state directory.

Every volume is a sparse image file; a snapshot is a copy of its volume at the call
(point in time), a volume from a snapshot a copy of the snapshot, an instance's root a
copy of its AMI's seed image. Copies are `cp --reflink=auto --sparse=always`.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

log = logging.getLogger("localcloud.disks")


def run(*argv: str, check: bool = True) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout.strip()


def copy_image(source: Path, target: Path) -> None:
    tmp = target.with_suffix(".tmp")
    run("cp", "--reflink=auto", "--sparse=always", str(source), str(tmp))
    os.replace(tmp, target)


class DiskStore:
    def __init__(self, state_dir: Path) -> None:
        self.volumes = state_dir / "volumes"
        self.snapshots = state_dir / "snapshots"
        self.volumes.mkdir(parents=True, exist_ok=True)
        self.snapshots.mkdir(parents=True, exist_ok=True)
        self.snapshot_sources: dict[str, Path] = {}   # AMI snapshots: the seed image itself

    def volume(self, volume_id: str) -> Path:
        return self.volumes / f"{volume_id}.img"

    def snapshot(self, snapshot_id: str) -> Path:
        return self.snapshot_sources.get(snapshot_id) or self.snapshots / f"{snapshot_id}.img"

    def create_blank(self, volume_id: str, size_gib: int) -> Path:
        path = self.volume(volume_id)
        with open(path, "wb") as f:
            f.truncate(size_gib << 30)
        return path

    def create_from(self, volume_id: str, source: Path, size_gib: int) -> Path:
        path = self.volume(volume_id)
        copy_image(source, path)
        if path.stat().st_size < size_gib << 30:
            os.truncate(path, size_gib << 30)
        return path

    def snapshot_volume(self, volume_id: str, snapshot_id: str) -> None:
        source = self.volume(volume_id)
        if source.exists():
            copy_image(source, self.snapshots / f"{snapshot_id}.img")

    def delete_volume(self, volume_id: str) -> None:
        self.volume(volume_id).unlink(missing_ok=True)

    def delete_snapshot(self, snapshot_id: str) -> None:
        if snapshot_id not in self.snapshot_sources:
            (self.snapshots / f"{snapshot_id}.img").unlink(missing_ok=True)


def first_partition(image: Path) -> tuple[int, int] | None:
    """(offset, size) in bytes of the image's first partition, None without a table."""
    proc = subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    table = json.loads(proc.stdout)["partitiontable"]
    sector = table.get("sectorsize", 512)
    parts = table.get("partitions", [])
    if not parts:
        return None
    return parts[0]["start"] * sector, parts[0]["size"] * sector


@contextmanager
def mounted_root(image: Path) -> Iterator[Path]:
    """The image's first partition mounted read-write on a temporary directory."""
    part = first_partition(image)
    if part is None:
        raise RuntimeError(f"{image} has no partition table")
    loop = run("losetup", "--find", "--show", "--offset", str(part[0]), "--sizelimit", str(part[1]), str(image))
    mnt = Path(tempfile.mkdtemp(prefix="localcloud-root."))
    try:
        fstype = run("blkid", "-p", "-s", "TYPE", "-o", "value", loop, check=False)
        options = "nouuid" if fstype == "xfs" else "defaults"
        run("mount", "-o", options, loop, str(mnt))
        try:
            yield mnt
        finally:
            run("umount", str(mnt))
    finally:
        run("losetup", "-d", loop, check=False)
        mnt.rmdir()


def install_public_key(image: Path, user: str, public_key: str) -> None:
    """What cloud-init does at first boot: the key pair's key in the login user's authorized_keys."""
    with mounted_root(image) as root:
        passwd = (root / "etc/passwd").read_text().splitlines()
        entry = next((line.split(":") for line in passwd if line.split(":")[0] == user), None)
        if entry is None:
            raise RuntimeError(f"user {user} not in the image's /etc/passwd")
        uid, gid, home = int(entry[2]), int(entry[3]), entry[5]
        ssh = root / home.lstrip("/") / ".ssh"
        ssh.mkdir(mode=0o700, exist_ok=True)
        os.chown(ssh, uid, gid)
        keys = ssh / "authorized_keys"
        with open(keys, "a") as f:
            f.write(public_key.strip() + "\n")
        os.chown(keys, uid, gid)
        os.chmod(keys, 0o600)
