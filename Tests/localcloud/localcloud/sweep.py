"""Whatever is left on the host of one cloud, found by markers that name it, and its removal.

A cloud's leftovers are recognised by its state directory and port only, never by a broad name
(other clouds run on the same host): processes whose command line names DIR/instances/ (an
instance's unshare, setup and init: the init carries its work directory as an argument),
processes whose mount namespace has one of the cloud's loop devices as its root (an instance
whose own processes no longer name it), loop devices backed by a file under DIR (even deleted),
and network namespaces lcPORT-i-…. The order matters: an instance's filesystems are unmounted
in its own namespace and its processes killed before its loop device's partitions can go, and
the partitions go before the loop device (a detached loop device keeps a busy partition).

`python3 -m localcloud.sweep --port N --state-dir DIR` is what scripts/localcloud stop runs;
the cloud runs the same sweep at the end of its own shutdown.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import disk_release, netns

log = logging.getLogger("localcloud.sweep")
DELETED = " (deleted)"


# pure core -----------------------------------------------------------------------------------
def cloud_loops(listing: str, state_dir: str) -> list[str]:
    """The loop devices of `losetup --list --noheadings -O NAME,BACK-FILE` backed by a file
    under state_dir, deleted or not."""
    prefix = state_dir.rstrip("/") + "/"
    found = []
    for line in listing.splitlines():
        name, _, backing = line.strip().partition(" ")
        backing = backing.strip()
        if backing.endswith(DELETED):
            backing = backing[: -len(DELETED)]
        if name.startswith("/dev/loop") and backing.startswith(prefix):
            found.append(name)
    return sorted(found)


def mounts_in(mountinfo: str) -> list[tuple[tuple[int, int], str]]:
    """(device number, mount point) of each line of /proc/PID/mountinfo."""
    out = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 5 or ":" not in fields[2]:
            continue
        major, minor = fields[2].split(":", 1)
        out.append(((int(major), int(minor)), fields[4].replace("\\040", " ")))
    return out


def names_cloud(cmdline: str, state_dir: str) -> bool:
    return state_dir.rstrip("/") + "/instances/" in cmdline


@dataclass
class Leftovers:
    pids: set[int] = field(default_factory=set)                 # to kill
    inside: dict[int, list[str]] = field(default_factory=dict)  # a pid per leftover mount ns → its mounts of ours
    host_mounts: list[str] = field(default_factory=list)        # our devices mounted in the sweeper's namespace
    loops: list[str] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.pids or self.host_mounts or self.loops or self.namespaces)


@dataclass(frozen=True)
class Proc:
    pid: int
    cmdline: str
    mnt_ns: str
    mounts: tuple[tuple[tuple[int, int], str], ...]


def plan(procs: list[Proc], own_ns: str, devices: set[tuple[int, int]], state_dir: str,
         loops: list[str], namespaces: list[str]) -> Leftovers:
    """What to remove: processes naming the cloud, and every process of a mount namespace
    (never the sweeper's own) whose root is one of the cloud's devices."""
    left = Leftovers(loops=loops, namespaces=namespaces)
    leaked_ns: dict[str, int] = {}
    for p in procs:
        ours = [point for dev, point in p.mounts if dev in devices]
        if p.mnt_ns == own_ns:
            left.host_mounts.extend(point for point in ours if point not in left.host_mounts)
        elif any(dev in devices and point == "/" for dev, point in p.mounts):
            left.pids.add(p.pid)
            if p.mnt_ns not in leaked_ns:
                leaked_ns[p.mnt_ns] = p.pid
                left.inside[p.pid] = ours
        if names_cloud(p.cmdline, state_dir):
            left.pids.add(p.pid)
    left.pids.discard(os.getpid())
    return left


# the host: what is there, and its removal ---------------------------------------------------
def _scan_processes() -> list[Proc]:
    procs, mounts_of_ns = [], {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ns = os.readlink(f"/proc/{pid}/ns/mnt")
            if ns not in mounts_of_ns:   # one read per mount namespace: most processes share the host's
                mounts_of_ns[ns] = tuple(mounts_in(Path(f"/proc/{pid}/mountinfo").read_text()))
        except OSError:   # gone meanwhile, or a kernel thread
            continue
        procs.append(Proc(pid, cmdline, ns, mounts_of_ns[ns]))
    return procs


def _devices(loops: list[str]) -> set[tuple[int, int]]:
    found = set()
    for loop in loops:
        base = os.path.basename(loop)
        for node in [Path(f"/sys/class/block/{base}")] + list(Path(f"/sys/class/block/{base}").glob(f"{base}p*")):
            try:
                major, minor = (node / "dev").read_text().strip().split(":")
            except (OSError, ValueError):
                continue
            found.add((int(major), int(minor)))
    return found


def survey(state_dir: Path, port: int) -> Leftovers:
    listing = subprocess.run(["losetup", "--list", "--noheadings", "-O", "NAME,BACK-FILE"],
                             capture_output=True, text=True).stdout
    loops = cloud_loops(listing, str(state_dir))
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split("\n")
    namespaces = sorted(n.split()[0] for n in names if n.startswith(f"{netns.PREFIX}{port}-i-"))
    return plan(_scan_processes(), os.readlink("/proc/self/ns/mnt"), _devices(loops), str(state_dir),
                loops, namespaces)


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def remove(left: Leftovers, deadline: float) -> None:
    """Unmounts inside each leftover namespace, kills its processes, then drops network
    namespaces, partitions and loop devices."""
    for pid, points in left.inside.items():
        for point in sorted((p for p in points if p != "/"), key=len, reverse=True):
            subprocess.run(["nsenter", "-t", str(pid), "-m", "umount", "-l", point], capture_output=True)
    for pid in sorted(left.pids):
        log.warning("killing leftover instance process %d", pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    while not all(_gone(pid) for pid in left.pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for point in sorted(left.host_mounts, key=len, reverse=True):
        log.warning("unmounting leftover %s", point)
        subprocess.run(["umount", "-l", point], capture_output=True)
    for name in left.namespaces:
        log.warning("deleting leftover network namespace %s", name)
        subprocess.run(["ip", "netns", "delete", name], capture_output=True)
    for loop in left.loops:
        log.warning("detaching leftover %s", loop)
        disk_release.release_partitions(loop, deadline)
    disk_release.drain(max(0.0, deadline - time.monotonic()))


def sweep(state_dir: Path, port: int, timeout: float = 20) -> Leftovers:
    """Removes what is left of the cloud; returns what is still there afterwards (empty: clean)."""
    left = survey(state_dir, port)
    if not left.empty():
        remove(left, time.monotonic() + timeout)
        left = survey(state_dir, port)
    return left


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m localcloud.sweep",
                                     description="remove what is left of one local cloud")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=20)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="localcloud: %(message)s")
    left = sweep(args.state_dir, args.port, args.timeout)
    if left.empty():
        return 0
    log.error("still left of the cloud on port %d: processes %s, mounts %s, loop devices %s, network namespaces %s;"
              " run the stop again, or look at them with ps, losetup -a and ip netns list",
              args.port, sorted(left.pids), left.host_mounts, left.loops, left.namespaces)
    return 1


if __name__ == "__main__":
    sys.exit(main())
