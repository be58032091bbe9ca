#!/usr/bin/env python3
"""A stand-in for keyrescue-agent, to test the tests (never shipped, never used by scripts/test).

Speaks the same CLI and report as the real agent for the cases this suite builds, crudely, with host
tools. KEYRESCUE_FAKE_NAIVE=1 makes it follow symlinks and `..` the way a careless agent would, so
the hostile-disk tests can be seen to catch an escape. LVM roots answer `unsupported`.
"""
import argparse
import contextlib
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kr import disks  # noqa: E402

NAIVE = os.environ.get("KEYRESCUE_FAKE_NAIVE") == "1"
TABLE = {"amzn": "ec2-user", "rhel": "ec2-user", "sles": "ec2-user", "ubuntu": "ubuntu",
         "debian": "admin", "fedora": "fedora", "centos": "centos"}


class Refusal(Exception):
    def __init__(self, code, message, candidates=()):
        super().__init__(message)
        self.code, self.candidates = code, list(candidates)


def sh(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True)


def blkid_type(dev):
    return sh("blkid", "-p", "-s", "TYPE", "-o", "value", dev).stdout.strip()


@contextlib.contextmanager
def open_image(img, read_only):
    """Yields (root dir, facts) for the Linux root on the image; undoes every mount and loop."""
    try:
        parts = sorted(disks.partitions(img).items())
    except Exception:
        parts = [(None, (0, os.path.getsize(img)))]
    fs_seen = False
    with contextlib.ExitStack() as stack:
        for number, (start, size) in parts:
            dev = stack.enter_context(disks.loop_at(img, start, size, read_only))
            fstype = blkid_type(dev)
            if fstype == "LVM2_member":
                raise Refusal("unsupported", "LVM roots are not supported by the fake agent")
            if fstype not in ("ext4", "xfs", "btrfs"):
                continue
            fs_seen = True
            ro = "ro," if read_only else ""
            opts = {"xfs": ro + "nouuid" + (",norecovery" if read_only else ""),
                    "ext4": ro + "nosuid,nodev,noexec"}.get(fstype, ro + "nosuid")
            for subvol in (["root", ""] if fstype == "btrfs" else [""]):
                o = opts + (f",subvol={subvol}" if subvol else "")
                try:
                    mnt = stack.enter_context(disks.mounted(dev, fstype, o))
                except Exception:
                    raise Refusal("mountFailed", f"cannot mount {fstype} on partition {number}")
                if os.path.exists(f"{mnt}/etc/os-release"):
                    if fstype == "btrfs":
                        fstab = open(f"{mnt}/etc/fstab").read()
                        m = re.search(r"\s/home\s+btrfs\s+\S*subvol=([^,\s]+)", fstab)
                        if m:
                            stack.enter_context(disks.mounted(dev, "btrfs", f"{ro}subvol={m.group(1)}",
                                                              where=f"{mnt}/home"))
                    yield mnt, {"device": img, "partition": str(number), "filesystem": fstype}
                    return
        raise Refusal("noLinuxRoot", "no Linux root filesystem found" + (" (some filesystems)" if fs_seen else ""))


def read(root, rel):
    path = os.path.join(root, rel.lstrip("/"))
    if os.path.exists(path) and not os.path.isfile(path):
        raise Refusal("unsafePath", f"/{rel.lstrip('/')} on the target is not a regular file")
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def choose_user(root, wanted):
    passwd = {l.split(":")[0]: l.split(":") for l in read(root, "etc/passwd").splitlines() if l.count(":") == 6}
    osr = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', read(root, "etc/os-release"), re.M))
    if wanted:
        if wanted not in passwd:
            raise Refusal("userNotFound", f"user {wanted} is not in the target's /etc/passwd")
        return passwd[wanted], osr
    m = re.search(r"default_user:\s*\n\s+name:\s*(\S+)", read(root, "etc/cloud/cloud.cfg"))
    for name in ([m.group(1)] if m else []) + [TABLE.get(osr.get("ID", ""), "")]:
        if name in passwd:
            return passwd[name], osr
    people = [n for n, e in passwd.items() if 1000 <= int(e[2]) < 65534]
    if len(people) == 1:
        return passwd[people[0]], osr
    raise Refusal("noLoginUser", "no login user; candidates: " + ", ".join(people), people)


def open_dir_beneath(root, rel, uid, gid, create):
    """Walks `rel` beneath `root` one component at a time, refusing symlinks and `..`."""
    fd = os.open(root, os.O_DIRECTORY)
    for part in [p for p in rel.split("/") if p]:
        if part == "..":
            os.close(fd)
            raise Refusal("unsafePath", f"{rel}: `..` in a path on the target")
        try:
            nfd = os.open(part, os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise
            os.mkdir(part, 0o700, dir_fd=fd)
            os.chown(part, uid, gid, dir_fd=fd, follow_symlinks=False)
            nfd = os.open(part, os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except OSError:
            os.close(fd)
            raise Refusal("unsafePath", f"{rel}: {part} is a symlink or not a directory")
        os.close(fd)
        fd = nfd
    return fd


def write_key(root, entry, line, replace, selinux):
    uid, gid, home = int(entry[2]), int(entry[3]), entry[5]
    if NAIVE:
        ssh_dir = root + home + "/.ssh"
        os.makedirs(ssh_dir, exist_ok=True)
        with open(ssh_dir + "/authorized_keys", "a") as f:
            f.write(line + " keyrescue\n")
        return home + "/.ssh/authorized_keys", None, False
    home_fd = open_dir_beneath(root, home, uid, gid, create=False)
    try:
        ssh_fd = open_dir_beneath(f"/proc/self/fd/{home_fd}", ".ssh", uid, gid, create=True)
    finally:
        os.close(home_fd)
    try:
        return write_key_in(ssh_fd, home, uid, gid, line, replace, selinux)
    finally:
        os.close(ssh_fd)


def write_key_in(ssh_fd, home, uid, gid, line, replace, selinux):
    os.fchown(ssh_fd, uid, gid)
    os.fchmod(ssh_fd, 0o700)
    try:
        old = os.open("authorized_keys", os.O_RDONLY | os.O_NOFOLLOW, dir_fd=ssh_fd)
        text = os.read(old, 1 << 20).decode()
        os.close(old)
    except FileNotFoundError:
        text = None
    except OSError:
        raise Refusal("unsafePath", "authorized_keys is a symlink")
    blob = line.split()[1]
    lines = (text or "").splitlines()
    if any(blob in l.split() for l in lines) and not replace:
        return home + "/.ssh/authorized_keys", None, True
    backup = None
    if text is not None:
        backup = home + "/.ssh/authorized_keys.keyrescue-backup"
        fd = os.open("authorized_keys.keyrescue-backup", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600, dir_fd=ssh_fd)
        os.write(fd, text.encode())
        os.fchown(fd, uid, gid)
        os.close(fd)
    kept = [] if replace else lines
    fd = os.open("authorized_keys.tmp", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=ssh_fd)
    os.write(fd, ("\n".join(kept + [line + " # added by keyrescue"]) + "\n").encode())
    os.fchown(fd, uid, gid)
    os.fchmod(fd, 0o600)
    os.fsync(fd)
    os.close(fd)
    os.rename("authorized_keys.tmp", "authorized_keys", src_dir_fd=ssh_fd, dst_dir_fd=ssh_fd)
    if selinux:
        for name in (None, "authorized_keys"):
            target = f"/proc/self/fd/{ssh_fd}" + (f"/{name}" if name else "")
            os.setxattr(target, "security.selinux", b"unconfined_u:object_r:ssh_home_t:s0\0")
    return home + "/.ssh/authorized_keys", backup, False


def work(root, args, line):
    entry, osr = choose_user(root, args.user)
    selinux = re.search(r"^SELINUX=(enforcing|permissive)", read(root, "etc/selinux/config"), re.M)
    report = {"ok": True, "user": entry[0], "uid": int(entry[2]), "gid": int(entry[3]),
              "home": entry[5], "distro": {"id": osr.get("ID", "")}, "hostKeys": [],
              "warnings": [], "alreadyPresent": False, "dryRun": bool(args.dry_run)}
    for pub in sorted(glob.glob(f"{root}/etc/ssh/ssh_host_*_key.pub")):
        t, b = open(pub).read().split()[:2]
        report["hostKeys"].append({"type": t, "base64": b, "fingerprint": ""})
    report["authorizedKeysPath"] = entry[5] + "/.ssh/authorized_keys"
    if args.command == "inject" and not args.dry_run:
        path, backup, present = write_key(root, entry, line, args.replace, bool(selinux))
        report.update(authorizedKeysPath=path, backupPath=backup, alreadyPresent=present)
        if selinux:
            report["selinuxLabel"] = "unconfined_u:object_r:ssh_home_t:s0"
    return report


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["inject", "probe"])
    for o in ("--image", "--root", "--device", "--volume-id", "--public-key", "--public-key-text", "--user"):
        p.add_argument(o)
    for f in ("--replace", "--dry-run", "--json"):
        p.add_argument(f, action="store_true")
    args = p.parse_args()
    try:
        line = None
        if args.command == "inject":
            text = args.public_key_text or open(args.public_key).read()
            with tempfile.NamedTemporaryFile("w", suffix=".pub") as t:
                t.write(text)
                t.flush()
                fp = sh("ssh-keygen", "-lf", t.name)
            if fp.returncode != 0 or "\n" in text.strip() or not text.startswith("ssh-"):
                raise Refusal("invalidPublicKey", "not one OpenSSH public key line")
            line = " ".join(text.split()[:2])
        read_only = args.command == "probe" or args.dry_run
        if args.root:
            report = work(args.root, args, line)
        elif args.image:
            with open_image(args.image, read_only) as (root, facts):
                report = work(root, args, line)
                report.update(facts)
        else:
            raise Refusal("unsupported", "only --root and --image")
        if line:
            report["keyFingerprint"] = fp.stdout.split()[1]
        print(json.dumps(report) if args.json else "ok")
        return 0
    except Refusal as e:
        if args.json:
            print(json.dumps({"ok": False, "error": {"code": e.code, "message": str(e), "hint": "",
                                                      "candidates": e.candidates}}))
        print(f"keyrescue-agent: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
