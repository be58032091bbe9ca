"""Loop devices and mounts that belong to our files: what a test must not leave behind.

Other engineers run disk tests on this machine at the same time, so nothing here compares the
whole machine: only loop devices backed by files under our own directory and mounts whose source or
mount point mentions it (or one of those loop devices) count.
"""
import json

from .sh import out


def loops_backed_by(prefix):
    """Loop devices whose backing file lies under `prefix`: [(device, back_file)]."""
    data = json.loads(out("losetup", "-l", "-J") or '{"loopdevices": []}')
    found = []
    for dev in data.get("loopdevices", []):
        back = dev.get("back-file") or ""
        # losetup appends " (deleted)" when the file was removed while attached.
        if back.startswith(prefix):
            found.append((dev["name"], back))
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


def leftovers(prefix, vg_prefix=None):
    """Everything of ours still attached or mounted, as readable strings (empty when clean)."""
    loops = loops_backed_by(prefix)
    found = [f"loop device {d} -> {b}" for d, b in loops]
    found += [f"mount: {l}" for l in mounts_mentioning([prefix] + [d for d, _ in loops])]
    if vg_prefix:
        found += [f"device-mapper: {d}" for d in dm_devices(vg_prefix)]
    return found
