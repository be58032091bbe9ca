"""Loop devices and mounts that belong to our files: what a test must not leave behind.

Other engineers run disk tests on this machine at the same time, so nothing here compares the
whole machine: only loop devices backed by files under our own directory and mounts whose source or
mount point mentions it (or one of those loop devices) count.
"""
import json
import time

from .sh import out


def loops_backed_by(prefix):
    """Loop devices whose backing file lies under `prefix`: [(device, back_file, autoclear)]."""
    data = json.loads(out("losetup", "-l", "-J") or '{"loopdevices": []}')
    found = []
    for dev in data.get("loopdevices", []):
        back = dev.get("back-file") or ""
        # losetup appends " (deleted)" when the file was removed while attached.
        if back.startswith(prefix):
            found.append((dev["name"], back, bool(dev.get("autoclear"))))
    return found


def mount_lines():
    with open("/proc/self/mountinfo") as f:
        return f.read().splitlines()


def mounts_mentioning(needles, lines=None):
    """mountinfo lines whose mount point or source contains one of `needles`."""
    needles = [n for n in needles if n]
    hits = []
    for line in lines if lines is not None else mount_lines():
        pre, _, post = line.partition(" - ")
        mount_point = pre.split()[4]
        source = post.split()[1] if len(post.split()) > 1 else ""
        if any(n in mount_point or n == source or n in source for n in needles):
            hits.append(line)
    return hits


def dm_devices(prefix):
    """Device-mapper devices (LVM logical volumes) whose name starts with `prefix`."""
    text = out("dmsetup", "ls", check=False)
    return [l.split()[0] for l in text.splitlines() if l.startswith(prefix)]


def leftovers(prefix, vg_prefix=None, settle_seconds=10):
    """Everything of ours still attached or mounted, as readable strings (empty when clean).

    `losetup -d` on a loop device that another process has open (other engineers' tools scan loop
    devices here) only sets autoclear: the device goes when that process closes it. Such devices,
    unmounted, get `settle_seconds` to go before they count."""
    deadline = time.monotonic() + settle_seconds
    while True:
        found = _leftovers(prefix, vg_prefix)
        detaching = all(l.startswith("loop device") and l.endswith("[autoclear]") for l in found)
        if not found or not detaching or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _leftovers(prefix, vg_prefix=None):
    loops = loops_backed_by(prefix)
    found = [f"loop device {d} -> {b}" + (" [autoclear]" if auto else "") for d, b, auto in loops]
    found += [f"mount: {l}" for l in mounts_mentioning([prefix] + [d for d, _, _ in loops])]
    if vg_prefix:
        found += [f"device-mapper: {d}" for d in dm_devices(vg_prefix)]
    return found
