"""The login proof's machinery: a real Debian disk image, and the image's own sshd judging a login.

sshd runs chrooted into the image's root filesystem, in a private mount namespace that holds every
mount it needs (the root, /proc, a tmpfs /run and /dev with the few nodes sshd opens): when sshd
dies the namespace and its mounts go with it, and the loop device is detached by us."""
import contextlib
import os
import signal
import socket
import subprocess
import time

from . import disks
from .sh import out, run

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
USER = "admin"


def rootfs_tarball():
    """The cached Debian minbase + openssh-server tarball (built once by scripts/lib/rootfs.sh)."""
    lib = os.path.join(REPO, "scripts/lib/rootfs.sh")
    return out("bash", "-c", f"source {lib} && rootfs_tarball ssh", timeout=900).strip().splitlines()[-1]


def build_debian_image(img, work):
    """GPT (BIOS boot, EFI, root ext4 on partition 1) holding the real rootfs, user `admin`, its own
    host keys. Made with mkfs.ext4 -d: nothing is mounted."""
    root = os.path.join(work, "root")
    os.makedirs(root)
    run("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", root, "-xf",
        rootfs_tarball(), timeout=300)
    run("useradd", "-R", root, "-m", "-s", "/bin/bash", "-U", USER)
    run("ssh-keygen", "-A", "-f", root)
    disks.gpt(img, 768, [(14, 4, disks.BIOS_BOOT), (15, 16, disks.ESP), (1, None, disks.LINUX)])
    disks.vfat(img, 15)
    disks.ext4_from_dir(img, 1, root, label="root")
    return root


def host_public_keys(root):
    keys = {}
    for name in sorted(os.listdir(f"{root}/etc/ssh")):
        if name.startswith("ssh_host_") and name.endswith(".pub"):
            with open(f"{root}/etc/ssh/{name}") as f:
                kind, blob = f.read().split()[:2]
                keys[blob] = kind
    return keys


SSHD_SCRIPT = r'''
set -eu
R=$KR_ROOT
mount -o nosuid,nodev "$KR_DEV" "$R"
mount -t proc proc "$R/proc"
mount -t tmpfs -o mode=755 tmpfs "$R/run"
mkdir -m 755 "$R/run/sshd"
mount -t tmpfs -o mode=755 tmpfs "$R/dev"
for n in null zero random urandom; do
    touch "$R/dev/$n"
    mount --bind "/dev/$n" "$R/dev/$n"
done
exec chroot "$R" /usr/sbin/sshd -D -e -p "$KR_PORT" -o ListenAddress=127.0.0.1
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sshd:
    """The image's own sshd; `root` is its root directory as seen from the host (/proc/PID/root)."""

    def __init__(self, proc, port, log):
        self.proc, self.port, self.log_path = proc, port, log

    @property
    def root(self):
        return f"/proc/{self.proc.pid}/root"

    def log(self):
        with open(self.log_path) as f:
            return f.read()


@contextlib.contextmanager
def image_sshd(img, part, scratch):
    """Starts the image's sshd on 127.0.0.1:random; always stops it and detaches the loop device."""
    mountpoint = os.path.join(scratch, "sshd-root")
    os.makedirs(mountpoint, exist_ok=True)
    log = os.path.join(scratch, "sshd.log")
    with disks.loop(img, part) as dev, open(log, "w") as log_file:
        port = free_port()
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "KR_ROOT": mountpoint, "KR_DEV": dev,
               "KR_PORT": str(port)}
        proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "bash", "-c",
                                 SSHD_SCRIPT], env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                start_new_session=True)
        sshd = Sshd(proc, port, log)
        try:
            wait_for_port(port, proc, sshd)
            yield sshd
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_for_port(port, proc, sshd, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the image's sshd exited ({proc.returncode}):\n{sshd.log()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the image's sshd did not listen on {port} within {seconds}s:\n{sshd.log()}")


def ssh_login(key, port, known_hosts):
    """`ssh … admin@127.0.0.1 true` with host key checking on against `known_hosts`."""
    return run("ssh", "-F", "/dev/null", "-i", key, "-p", port, "-o", "IdentitiesOnly=yes",
               "-o", "IdentityAgent=none", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
               "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
               f"{USER}@127.0.0.1", "true", check=False, timeout=60)
