"""Giving a loop device back with no partition left behind.

The kernel refuses to delete a partition that is still open (a mount, even one in a dying
mount namespace, holds it). Detaching the loop device then only marks it to clear itself,
and its `loopNpK` partitions outlive it: the next program handed that loop device sees a
stale partition (mkfs refuses; a reader may see the old window). So the partitions are
deleted (`partx -d`) while the backing file is still attached, retried until they go;
a device still busy at the caller's deadline is handed to a reaper thread that keeps
trying (a namespace's mounts go when its last process has gone), and `drain` waits for
the reaper when the cloud closes.
"""
from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from pathlib import Path

from .disks import run

log = logging.getLogger("localcloud.disks")
_pending: set[str] = set()
_cond = threading.Condition()
_reaper: threading.Thread | None = None


def partitions(loop: str) -> list[str]:
    base = os.path.basename(loop)
    return sorted(p.name for p in Path(f"/sys/class/block/{base}").glob(f"{base}p*"))


def _try_release(loop: str) -> bool:
    if partitions(loop):
        subprocess.run(["partx", "-d", loop], capture_output=True)
        if partitions(loop):
            return False
    run("losetup", "-d", loop, check=False)
    return True


def release_partitions(loop: str, deadline: float) -> None:
    """Deletes the loop device's partitions, then detaches it; in the background if still busy."""
    while not _try_release(loop):
        if time.monotonic() > deadline:
            log.warning("%s: partitions %s still busy; retrying in the background", loop, partitions(loop))
            _hand_to_reaper(loop)
            return
        time.sleep(0.1)


def _hand_to_reaper(loop: str) -> None:
    global _reaper
    with _cond:
        _pending.add(loop)
        if _reaper is None or not _reaper.is_alive():
            _reaper = threading.Thread(target=_reap, name="loop-reaper", daemon=True)
            _reaper.start()


def _reap() -> None:
    while True:
        with _cond:
            if not _pending:
                _cond.notify_all()
                return
            loops = list(_pending)
        for loop in loops:
            if _try_release(loop):
                log.info("%s: partitions released", loop)
                with _cond:
                    _pending.discard(loop)
        time.sleep(0.5)


def drain(timeout: float) -> list[str]:
    """Waits for the reaper; returns the loop devices it could not release in time."""
    deadline = time.monotonic() + timeout
    with _cond:
        while _pending and time.monotonic() < deadline:
            _cond.wait(max(0.0, deadline - time.monotonic()))
        return sorted(_pending)
