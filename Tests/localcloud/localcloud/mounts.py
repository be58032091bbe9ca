"""What an instance has mounted, read from its mount namespace, and how to take it away.

A volume is "in use" inside when its loop device or one of its partitions backs a mount in the
instance's mount namespace (/proc/PID/mountinfo, field 3 is the device's major:minor).
"""
from __future__ import annotations

import subprocess
from pathlib import Path


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as \\040, \\011, \\012, \\134."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mounts_of(pid: int, devices: set[tuple[int, int]]) -> list[str]:
    """Mount points (as the instance sees them) of filesystems on `devices`, deepest first."""
    try:
        lines = Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split()
        major, minor = (int(x) for x in fields[2].split(":"))
        if (major, minor) in devices:
            found.append(_unescape(fields[4]))
    return sorted(found, key=len, reverse=True)


def unmount_inside(pid: int, mountpoints: list[str]) -> None:
    """Detaches each mount inside the instance: in its mount namespace, from its root and in its
    PID namespace (else its /proc has no /proc/self and umount finds no mount table). Lazily:
    open files keep the filesystem alive until closed, as a forced detach leaves a real
    instance with I/O errors."""
    for mountpoint in mountpoints:
        subprocess.run(["nsenter", "-t", str(pid), "-m", "-r", "-p", "umount", "-l", mountpoint], capture_output=True)
