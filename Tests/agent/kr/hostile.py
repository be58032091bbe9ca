"""Hostile target roots: symlinks and `..` that point a careless writer outside the target, and
FIFOs where a careless reader would block."""
import os

from .fakeroot import RootSpec, populate
from .images import account

DEEP = "../" * 12


def _ssh_dir(root):
    path = f"{root}/home/ubuntu/.ssh"
    os.makedirs(path, mode=0o700)
    os.chown(path, 1000, 1000)
    return path


def _replace_passwd_home(root, home):
    with open(f"{root}/etc/passwd") as f:
        text = f.read()
    with open(f"{root}/etc/passwd", "w") as f:
        f.write(text.replace("::/home/ubuntu:", f"::{home}:"))


def _fifo(path):
    if os.path.lexists(path):
        os.remove(path)
    os.mkfifo(path, 0o644)


def _hardlink_shadow(root):
    """authorized_keys is another name of the target's /etc/shadow: writing it in place (or chmod,
    chown on it) would damage the shadow file."""
    os.link(f"{root}/etc/shadow", f"{_ssh_dir(root)}/authorized_keys")


def _ssh_is_a_file(root):
    with open(f"{root}/home/ubuntu/.ssh", "w") as f:
        f.write("not a directory\n")


# name -> (what it does to the root, must the agent refuse?)
# Symlinked .ssh, authorized_keys or home: DESIGN.md says refuse. A `..` home may instead be
# resolved beneath the root, as long as every write stays inside the image.
CASES = {
    "ssh_symlink_absolute": (lambda r: os.symlink("/root/.ssh", f"{r}/home/ubuntu/.ssh"), True),
    "ssh_symlink_relative": (lambda r: os.symlink("../../../root/.ssh", f"{r}/home/ubuntu/.ssh"), True),
    "ssh_symlink_deep_relative": (lambda r: os.symlink(DEEP + "root/.ssh", f"{r}/home/ubuntu/.ssh"), True),
    "authorized_keys_symlink_absolute": (
        lambda r: os.symlink("/etc/passwd", f"{_ssh_dir(r)}/authorized_keys"), True),
    "authorized_keys_symlink_relative": (
        lambda r: os.symlink(DEEP + "etc/passwd", f"{_ssh_dir(r)}/authorized_keys"), True),
    "home_symlink_to_slash": (
        lambda r: (os.rename(f"{r}/home/ubuntu", f"{r}/home/ubuntu.real"),
                   os.symlink("/", f"{r}/home/ubuntu")), True),
    "passwd_home_dotdot": (lambda r: _replace_passwd_home(r, "/home/ubuntu/" + DEEP + "root"), False),
    "authorized_keys_hardlink_to_shadow": (_hardlink_shadow, False),
    "ssh_is_a_file": (_ssh_is_a_file, True),
    # FIFOs where files are read: a careless open() blocks forever. Refuse or skip them, never hang.
    "authorized_keys_fifo": (lambda r: _fifo(f"{_ssh_dir(r)}/authorized_keys"), False),
    # cloud.cfg decides the user: unreadable, it is refused by name (test_bounded.py checks the words).
    "cloud_cfg_fifo": (lambda r: _fifo(f"{r}/etc/cloud/cloud.cfg"), True),
    "passwd_fifo": (lambda r: _fifo(f"{r}/etc/passwd"), True),
}


def hostile_root(directory, case):
    """An Ubuntu-like fake root in `directory` with the `case` trap laid; the image's own /root/.ssh
    exists too, so an in-root misresolution is also visible."""
    populate(directory, RootSpec("ubuntu", "24.04", account("ubuntu"), cloud_default_user="ubuntu"))
    os.makedirs(f"{directory}/root/.ssh", mode=0o700)
    CASES[case][0](directory)
    return directory
