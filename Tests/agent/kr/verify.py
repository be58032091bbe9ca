"""Checks of what the agent left on the target's disk, read through a read-only mount."""
import os
import stat


def key_lines(text, blob):
    """Lines of an authorized_keys text that carry the key `blob` (options or not)."""
    return [l for l in text.splitlines() if not l.lstrip().startswith("#") and blob in l.split()]


def in_order(needles, lines):
    """True when every needle appears in `lines`, in the given order."""
    positions = [lines.index(n) for n in needles if n in lines]
    return len(positions) == len(needles) and positions == sorted(positions)


def assert_key_installed(root, expect, key, keep_old=True):
    """The key is in the user's authorized_keys once, with the owner and modes sshd's StrictModes wants."""
    ssh_dir = f"{root}{expect.home}/.ssh"
    path = f"{ssh_dir}/authorized_keys"
    for p, mode in ((ssh_dir, 0o700), (path, 0o600)):
        st = os.lstat(p)
        assert not stat.S_ISLNK(st.st_mode), f"{p} is a symlink"
        assert stat.S_IMODE(st.st_mode) == mode, f"{p}: mode {oct(stat.S_IMODE(st.st_mode))}"
        assert (st.st_uid, st.st_gid) == (expect.uid, expect.gid), f"{p}: owner {st.st_uid}:{st.st_gid}"
    with open(path) as f:
        text = f.read()
    assert len(key_lines(text, key.blob)) == 1, f"the key must be there exactly once:\n{text}"
    lines = text.splitlines()
    if keep_old:
        assert in_order(expect.existing_keys, lines), f"earlier keys lost or reordered:\n{text}"
    else:
        assert not any(old in lines for old in expect.existing_keys), f"--replace kept old keys:\n{text}"
    if expect.selinux:
        for p in (ssh_dir, path):
            label = os.getxattr(p, "security.selinux")
            assert b"ssh_home_t" in label, f"{p}: security.selinux is {label!r}"
    return text


def assert_report_matches(report, expect, key, host_key_pub=None):
    assert report["ok"] is True, report
    assert report["user"] == expect.user
    assert (report["uid"], report["gid"]) == (expect.uid, expect.gid)
    assert report["distro"]["id"] == expect.distro
    assert report["filesystem"] == expect.filesystem
    assert report["authorizedKeysPath"] == expect.authorized_keys
    assert report["keyFingerprint"] == key.fingerprint
    if host_key_pub:
        blobs = [h["base64"] for h in report.get("hostKeys", [])]
        assert host_key_pub.split()[1] in blobs, f"host keys in the report: {blobs}"
    if expect.selinux:
        assert "ssh_home_t" in (report.get("selinuxLabel") or ""), report.get("selinuxLabel")


def tree_manifest(root):
    """Everything about a directory tree that a stray write could change: types, modes, owners, link
    targets, contents and xattrs."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            entry = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
            if stat.S_ISLNK(st.st_mode):
                entry += (os.readlink(p),)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    entry += (f.read(),)
            entry += (tuple(sorted((x, os.getxattr(p, x, follow_symlinks=False))
                                   for x in os.listxattr(p, follow_symlinks=False))),)
            found[os.path.relpath(p, root)] = entry
    return found


def manifest_diff(before, after):
    """Readable list of paths that appeared, vanished or changed between two manifests."""
    changes = [f"new: {p}" for p in after.keys() - before.keys()]
    changes += [f"gone: {p}" for p in before.keys() - after.keys()]
    changes += [f"changed: {p}" for p in before.keys() & after.keys() if before[p] != after[p]]
    return sorted(changes)


def root_image(img, src):
    """A 64 MiB GPT image whose partition 1 is ext4 filled from the directory `src` (no mount)."""
    from . import disks
    disks.gpt(img, 64, [(1, None, disks.LINUX)])
    disks.ext4_from_dir(img, 1, src)
    return img


def image_manifest(img):
    """tree_manifest of partition 1 of `img`, mounted read-only."""
    from . import disks
    with disks.loop(img, 1, read_only=True) as dev, disks.mounted(dev, "ext4", "ro") as root:
        return tree_manifest(root)
