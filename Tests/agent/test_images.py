"""The image builders make what the agent's tests claim: checked with the host's own tools, no agent."""
import os

import pytest

from conftest import needs_root
from kr import disks
from kr.images import CATALOGUE, RESCUABLE, target_root_ro
from kr.sh import run

pytestmark = needs_root


@pytest.mark.parametrize("name", RESCUABLE)
def test_rescuable_image_holds_its_user(name, image_copy, vg_name):
    expect = CATALOGUE[name]
    img = image_copy(name)
    with target_root_ro(img, expect, vg_name) as root:
        with open(f"{root}/etc/passwd") as f:
            assert f"{expect.user}:x:{expect.uid}:" in f.read()
        st = os.stat(f"{root}{expect.home}")
        assert (st.st_uid, st.st_gid) == (expect.uid, expect.gid)


def test_btrfs_home_lives_in_its_own_subvolume(image_copy, vg_name):
    img = image_copy("fedora_btrfs")
    with disks.loop(img, 3, read_only=True) as dev, disks.mounted(dev, "btrfs", "ro,subvol=root") as r:
        assert os.listdir(f"{r}/home") == []
        assert "subvol=home" in open(f"{r}/etc/fstab").read()


def test_no_root_image_has_no_etc(image_copy):
    img = image_copy("no_root")
    with disks.loop(img, 2, read_only=True) as dev, disks.mounted(dev, "ext4", "ro") as r:
        assert not os.path.exists(f"{r}/etc")


def test_corrupt_image_looks_like_ext4_but_does_not_mount(image_copy, scratch):
    img = image_copy("corrupt")
    with disks.loop(img, 1, read_only=True) as dev:
        assert run("blkid", "-p", "-s", "TYPE", "-o", "value", dev).stdout.strip() == "ext4"
        where = os.path.join(scratch, "m")
        os.mkdir(where)
        proc = run("mount", "-o", "ro", dev, where, check=False)
        if proc.returncode == 0:
            run("umount", where)
        assert proc.returncode != 0
