"""Target roots whose keys path belongs (partly) to someone else, or that sshd's StrictModes would
refuse: each case says what the agent must do and which paths must keep owner, mode and content."""
import os
from dataclasses import dataclass, field

from .fakeroot import Account, RootSpec, populate, write
from .images import account

BOB = Account("bob", 1001, 1001, "/home/bob")
OLD_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGD6Vv6d4CRdyyxY3f1FZi7Hcn0KOy9Qmbi4bQpWmH4M bob@shared"


@dataclass
class Case:
    build: object  # root -> None (the key's public line is in `key_line`)
    refusal: str | None  # a fragment of the refusal message, or None: the key must be written
    unchanged: list = field(default_factory=list)  # target paths whose owner/mode/content must stay
    keys_file: str = "/home/ubuntu/.ssh/authorized_keys"
    owner_mode: tuple | None = (1000, 1000, 0o600)  # the keys file's owner and mode after a write
    warning: str | None = None  # a warning code the report must carry


def _sshd(root, line):
    """Puts `line` first in sshd_config (sshd takes the first value of a keyword)."""
    path = f"{root}/etc/ssh/sshd_config"
    with open(path) as f:
        text = f.read()
    write(path, line + "\n" + text)


def _ssh_dir(root, uid=1000, mode=0o700):
    path = f"{root}/home/ubuntu/.ssh"
    os.makedirs(path, exist_ok=True)
    os.chown(path, uid, uid)
    os.chmod(path, mode)
    return path


def _shared_root_file(root):
    _sshd(root, "AuthorizedKeysFile /etc/ssh/authorized_keys")
    write(f"{root}/etc/ssh/authorized_keys", OLD_KEY + "\n", 0o644)


def _other_accounts_ssh(root):
    write(f"{_ssh_dir(root, uid=1001)}/authorized_keys", OLD_KEY + "\n", 0o600, 1001, 1001)


def _shared_home(root):
    """ubuntu and bob share /srv/app (root's, 0755); the .ssh there is bob's."""
    with open(f"{root}/etc/passwd") as f:
        text = f.read().replace("::/home/ubuntu:", "::/srv/app:").replace("::/home/bob:", "::/srv/app:")
    write(f"{root}/etc/passwd", text)
    os.makedirs(f"{root}/srv/app/.ssh", mode=0o700)
    os.chown(f"{root}/srv/app/.ssh", 1001, 1001)
    write(f"{root}/srv/app/.ssh/authorized_keys", OLD_KEY + "\n", 0o600, 1001, 1001)


def _bob_in_ubuntus_group(root):
    with open(f"{root}/etc/group") as f:
        text = f.read().replace("\nubuntu:x:1000:\n", "\nubuntu:x:1000:bob\n")
    write(f"{root}/etc/group", text)


def _mode(path, mode):
    return lambda root: os.chmod(root + path, mode)


def _existing(mode, uid=1000, text=OLD_KEY + "\n"):
    def build(root):
        write(f"{_ssh_dir(root)}/authorized_keys", text, mode, uid, uid)
    return build


def _then(*steps):
    def build(root):
        for step in steps:
            step(root)
    return build


AK = "/home/ubuntu/.ssh/authorized_keys"
PATH = ["/home/ubuntu", "/home/ubuntu/.ssh", AK]

CASES = {
    # Only the user's files become the user's.
    "keys_file_is_etc_shadow": Case(lambda r: _sshd(r, "AuthorizedKeysFile /etc/shadow"),
                                    "system database /etc/shadow", ["/etc/shadow", "/etc"]),
    "keys_file_is_etc_hostname": Case(_then(lambda r: write(f"{r}/etc/hostname", "box\n"),
                                            lambda r: _sshd(r, "AuthorizedKeysFile /etc/hostname")),
                                      "system file under /etc", ["/etc/hostname", "/etc"]),
    "shared_root_0644_file": Case(_shared_root_file, None, keys_file="/etc/ssh/authorized_keys",
                                  owner_mode=(0, 0, 0o644)),
    "other_accounts_ssh_dir": Case(_other_accounts_ssh, "bob (uid 1001)", PATH),
    "home_shared_with_another_account": Case(_shared_home, "bob (uid 1001)",
                                             ["/srv/app", "/srv/app/.ssh", "/srv/app/.ssh/authorized_keys"]),
    "users_own_0640_file_keeps_its_mode": Case(_existing(0o640), None, owner_mode=(1000, 1000, 0o640)),
    # sshd's StrictModes: refused before writing, nothing changed.
    "home_owned_by_another_uid": Case(lambda r: os.chown(f"{r}/home/ubuntu", 1001, 1001), "StrictModes",
                                      ["/home/ubuntu"]),
    # Ubuntu's sshd accepts a group-writable path whose group holds the user alone; not with bob in it.
    "home_group_writable_private_group_on_ubuntu": Case(_mode("/home/ubuntu", 0o775), None, ["/home/ubuntu"]),
    "home_group_writable_shared_group": Case(_then(_mode("/home/ubuntu", 0o775), _bob_in_ubuntus_group),
                                             "StrictModes", ["/home/ubuntu"]),
    "ssh_dir_world_writable": Case(_then(_existing(0o600), _mode("/home/ubuntu/.ssh", 0o777)), "StrictModes", PATH),
    "keys_file_group_writable_shared_group": Case(_then(_existing(0o660), _bob_in_ubuntus_group), "StrictModes", PATH),
    "strictmodes_no_accepts_group_writable_home": Case(
        _then(_mode("/home/ubuntu", 0o775), lambda r: _sshd(r, "StrictModes no")), None, ["/home/ubuntu"]),
    # sshd reads the file as the user.
    "root_0600_file_the_user_cannot_read": Case(
        _then(_shared_root_file, _mode("/etc/ssh/authorized_keys", 0o600)), "ubuntu cannot read",
        ["/etc/ssh/authorized_keys"]),
}


def ownership_root(directory, case, key_line):
    """An Ubuntu-like fake root (user ubuntu 1000, second account bob 1001) with `case` laid out.
    The key-behind-options case needs the injected key's own line, hence `key_line`."""
    populate(directory, RootSpec("ubuntu", "24.04", account("ubuntu"), cloud_default_user="ubuntu",
                                 extra_accounts=[BOB]))
    os.chmod(f"{directory}/home/ubuntu", 0o750)
    if case == "key_behind_forced_command":
        _existing(0o600, text=f'command="echo restricted" {key_line}\n')(directory)
    else:
        CASES[case].build(directory)
    return directory


CASES["key_behind_forced_command"] = Case(None, None, warning="keyBehindOptions")
