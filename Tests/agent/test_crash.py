"""A crash leaves nothing behind: the agent mounts in a private mount namespace of its own, so when
it dies without unwinding (SIGKILL here; a SIGSEGV is the same to the kernel) the namespace goes
with its mounts, and each loop device (autoclear, held only by the agent) goes with its last user.

strace holds the agent for a few seconds right after a mount(2) returns; the test kills it there."""
import os
import shutil
import signal
import subprocess
import time

import pytest

from kr.marks import needs_root
from kr import leaks

pytestmark = needs_root

HOLD_SECONDS = 20


def agent_pid(tracer):
    """The traced agent: strace's child."""
    with open(f"/proc/{tracer}/task/{tracer}/children") as f:
        children = f.read().split()
    return int(children[0]) if children else None


def agent_mounts(pid, under="/run/keyrescue-agent/"):
    """Mount points under the agent's work directory, as the agent's own namespace sees them."""
    try:
        with open(f"/proc/{pid}/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    return [l.split()[4] for l in lines if l.split()[4].startswith(under)]


def backing(device):
    try:
        with open(f"/sys/block/{os.path.basename(device)}/loop/backing_file") as f:
            return f.read().strip()
    except OSError:
        return None


def loops_over(image):
    """Loop devices over `image`, and the partition windows over those."""
    disk = [d for d, _, _ in leaks.loops_backed_by(image)]
    return disk + [d for d, back, _ in leaks.loops_backed_by("/dev/loop") if back in disk]


def still_held(devices, image):
    """Those of `devices` still backed by `image` or by one of `devices` (a number freed and taken
    by someone else meanwhile backs something else)."""
    return [d for d in devices if backing(d) in [image] + devices]


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace to hold the agent at its mount")
@pytest.mark.parametrize("command", ["inject", "probe"])
def test_sigkill_while_mounted_leaves_no_mount_and_no_loop_device(command, agent, image_copy, key):
    img = image_copy("ubuntu_gpt")  # GPT: the root is a loop window over the image's loop device
    args = [agent, command, "--image", img] + (["--public-key", key.public] if command == "inject" else [])
    tracer = subprocess.Popen(["strace", "-f", "-o", "/dev/null", "-e",
                               f"inject=mount:delay_exit={HOLD_SECONDS * 1_000_000}:when=3+"] + args,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        pid, mounted = None, []
        while time.monotonic() < deadline and not mounted and tracer.poll() is None:
            time.sleep(0.02)
            pid = pid or agent_pid(tracer.pid)
            mounted = agent_mounts(pid) if pid else []
        ended = tracer.poll() is not None
        assert mounted, (f"the agent's mount was never seen (agent pid {pid}; "
                         f"{'it ended: ' + tracer.stderr.read().decode() if ended else 'still running'})")
        # The disk's mount is private: not in this (the caller's) namespace.
        assert not leaks.mounts_mentioning(mounted), "the agent's mount is visible outside its namespace"
        held = loops_over(img)
        assert held, "no loop device over the image while mounted"
        os.kill(pid, signal.SIGKILL)
    finally:
        # strace would sit out its delay before reaping the dead agent: it is not needed any more.
        if tracer.poll() is None:
            tracer.kill()
            tracer.wait()
    deadline = time.monotonic() + 10
    while still_held(held, img) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert still_held(held, img) == [], "a loop device outlived the killed agent"
    assert leaks.mounts_mentioning([img] + held + mounted) == []
    # Nothing left in the host's /run either: the mount points lived on the namespace's own tmpfs.
    work = "/".join(mounted[0].split("/")[:4])  # /run/keyrescue-agent/disk-XXXXXX
    assert not os.path.exists(work), f"{work} outlived the killed agent"
