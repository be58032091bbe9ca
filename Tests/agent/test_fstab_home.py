"""A separate /home in the target's fstab, with a stale directory of the home's name beneath the
mount point on the root filesystem (left from before /home got its own filesystem). At boot the
mount hides that directory, so a key written there would never be read: the agent must mount the
/home filesystem when it is on this disk, and refuse, saying why, when it is on another disk."""
import os
import uuid as uuidlib

from kr.marks import needs_root
from kr import disks
from kr.agent import assert_refused
from kr.fakeroot import Account, RootSpec, populate
from kr.sandbox import HUNG, run_sandboxed
from kr.verify import key_lines, manifest_diff, tree_manifest

pytestmark = needs_root

STALE_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIStaleKeyUnderTheHomeMountPoint0000000000000000 stale"


def build(scratch, fstab_home, home_on_p2, host_key_pub=None):
    """GPT: root on p1 with fstab `fstab_home` and a stale /home/ubuntu holding STALE_KEY; with
    `home_on_p2`, the real /home (an empty .ssh-less /home/ubuntu) on p2 by UUID."""
    home_uuid = str(uuidlib.uuid4())
    fstab = "LABEL=root / ext4 defaults 0 1\n" + fstab_home.format(uuid=home_uuid)
    user = Account("ubuntu", 1000, 1000, "/home/ubuntu")
    root = os.path.join(scratch, "root")
    populate(root, RootSpec("ubuntu", "24.04", user, cloud_default_user="ubuntu", fstab=fstab,
                            existing_keys=[STALE_KEY], host_key_pub=host_key_pub))
    img = os.path.join(scratch, "disk.img")
    disks.gpt(img, 128, [(1, 64, disks.LINUX), (2, None, disks.LINUX)])
    disks.ext4_from_dir(img, 1, root, label="root")
    if home_on_p2:
        home = os.path.join(scratch, "home")
        populate(os.path.join(scratch, "homeroot"), RootSpec("ubuntu", "24.04", user))
        os.rename(os.path.join(scratch, "homeroot", "home"), home)
        disks.ext4_from_dir(img, 2, home, uuid=home_uuid)
    return img


def manifest(img, part):
    with disks.loop(img, part, read_only=True) as dev, disks.mounted(dev, "ext4", "ro") as mnt:
        return tree_manifest(mnt)


def inject(agent, img, scratch, key):
    run = run_sandboxed(agent, ["inject", "--image", img, "--public-key", key.public, "--json"],
                        [scratch, os.path.dirname(key.public)], scratch)
    assert run.result.rc != HUNG, str(run)
    assert not run.writes_outside and not run.leaked_mounts, str(run)
    return run.result


def test_home_filesystem_on_this_disk_is_mounted_over_a_stale_directory(agent, scratch, key):
    img = build(scratch, "UUID={uuid} /home ext4 defaults 0 2\n", home_on_p2=True)
    root_before = manifest(img, 1)
    result = inject(agent, img, scratch, key)
    assert result.rc == 0, str(result)
    assert result.report["authorizedKeysPath"] == "/home/ubuntu/.ssh/authorized_keys"
    assert manifest_diff(root_before, manifest(img, 1)) == [], "the stale /home/ubuntu on the root changed"
    with disks.loop(img, 2, read_only=True) as dev, disks.mounted(dev, "ext4", "ro") as home:
        path = f"{home}/ubuntu/.ssh/authorized_keys"
        st = os.stat(path)
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (1000, 1000, 0o600)
        with open(path) as f:
            assert len(key_lines(f.read(), key.blob)) == 1


def test_home_filesystem_on_another_disk_is_refused_despite_a_stale_directory(agent, scratch, key):
    img = build(scratch, "/dev/nvme1n1p1 /home ext4 defaults,nofail 0 2\n", home_on_p2=False)
    root_before = manifest(img, 1)
    result = inject(agent, img, scratch, key)
    assert_refused(result)
    assert result.error_code == "homeNotOnDisk", str(result)
    assert "/dev/nvme1n1p1" in result.stderr and "hidden" in result.stderr, str(result)
    assert "homeOnOtherVolume" in [w["code"] for w in result.report["warnings"]], str(result)
    assert manifest_diff(root_before, manifest(img, 1)) == [], "a refusal must leave the disk as it was"


def test_noauto_home_filesystem_leaves_the_directory_on_the_root_in_use(agent, scratch, key):
    """`noauto`: nothing is mounted over /home at boot, so the root's /home/ubuntu is sshd's."""
    img = build(scratch, "/dev/nvme1n1p1 /home ext4 noauto 0 2\n", home_on_p2=False)
    result = inject(agent, img, scratch, key)
    assert result.rc == 0, str(result)
    with disks.loop(img, 1, read_only=True) as dev, disks.mounted(dev, "ext4", "ro") as root:
        with open(f"{root}/home/ubuntu/.ssh/authorized_keys") as f:
            text = f.read()
    assert key_lines(text, key.blob) and STALE_KEY in text
