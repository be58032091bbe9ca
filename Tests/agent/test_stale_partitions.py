"""Stale kernel partitions. The kernel keeps a loop device's partitions (added by `partx -a`, i.e.
BLKPG) when it is detached, busy or not, without `partx -d`; the next file attached there inherits
them at the old offsets. The agent must use a kernel partition only when its window (start and size
in sysfs) is the one the disk's own table gives, else make its own window: never the leftover."""
import os

import pytest

from kr.marks import needs_root
from kr import disks
from kr.agent import run_agent
from kr.fakeroot import Account, RootSpec, populate
from kr.sh import out, run
from kr.verify import key_lines

pytestmark = needs_root

SECTORS = 40960  # 20 MiB: the same size for the leftover and the real partition


def image(scratch, name, start_sector, with_root):
    """A GPT image with one partition of SECTORS sectors at `start_sector`, holding a Linux root."""
    img = os.path.join(scratch, name)
    run("truncate", "-s", "64M", img)
    run("sfdisk", "-q", img, input=f"label: gpt\nstart={start_sector}, size={SECTORS}\n")
    if with_root:
        root = os.path.join(scratch, name + ".root")
        populate(root, RootSpec("ubuntu", "24.04", Account("ubuntu", 1000, 1000, "/home/ubuntu"),
                                cloud_default_user="ubuntu"))
        disks.ext4_from_dir(img, 1, root)
    return img


def sysfs_window(dev, number=1):
    name = os.path.basename(dev)
    base = f"/sys/block/{name}/{name}p{number}"
    with open(f"{base}/start") as s, open(f"{base}/size") as z:
        return int(s.read()), int(z.read())


def key_on_partition(img, key):
    with disks.loop(img, 1, read_only=True) as dev, disks.mounted(dev, "ext4", "ro") as root:
        with open(f"{root}/home/ubuntu/.ssh/authorized_keys") as f:
            return len(key_lines(f.read(), key.blob)) == 1


def test_device_with_a_leftover_partition_at_another_offset(agent, scratch, key):
    """--device: the leftover loopNp1 has the real partition's size but starts 1 MiB earlier (made
    with addpart, which is the BLKPG call `partx -a` makes): mounting it would read the wrong bytes."""
    img = image(scratch, "disk.img", 4096, with_root=True)
    with disks.loop(img) as dev:
        try:
            run("addpart", dev, "1", "2048", str(SECTORS))
            assert sysfs_window(dev) == (2048, SECTORS), "the leftover was not made"
            result = run_agent(agent, "inject", "--device", dev, "--public-key", key.public, "--json")
            assert sysfs_window(dev) == (2048, SECTORS), "the agent changed the device's partitions"
        finally:
            run("delpart", dev, "1", check=False)
    assert result.rc == 0, str(result)
    assert key_on_partition(img, key)


def test_device_with_a_matching_kernel_partition_uses_it(agent, scratch, key):
    """The same disk scanned properly (partx -a): the window matches, the kernel's device serves."""
    img = image(scratch, "disk.img", 4096, with_root=True)
    with disks.loop(img) as dev:
        try:
            run("partx", "-a", dev)
            assert sysfs_window(dev) == (4096, SECTORS)
            result = run_agent(agent, "inject", "--device", dev, "--public-key", key.public, "--json")
        finally:
            run("partx", "-d", dev, check=False)
    assert result.rc == 0, str(result)
    assert result.report["partition"] == f"{dev}p1"
    assert key_on_partition(img, key)


def test_image_on_a_loop_device_with_a_leftover(agent, scratch, key):
    """--image, the leftover made as the local cloud makes it: attach, partx -a, detach. The agent's
    next loop device is most likely that one (the lowest free); it must not use the leftover."""
    decoy = image(scratch, "decoy.img", 2048, with_root=False)
    dev = out("losetup", "--find", "--show", decoy).strip()
    try:
        run("partx", "-a", dev)
    finally:
        run("losetup", "-d", dev)
    try:
        if not os.path.exists(f"/sys/block/{os.path.basename(dev)}/{os.path.basename(dev)}p1"):
            pytest.fail("detaching dropped the partition: this kernel leaves no leftover to test")
        img = image(scratch, "disk.img", 4096, with_root=True)
        result = run_agent(agent, "inject", "--image", img, "--public-key", key.public, "--json")
    finally:
        run("partx", "-d", dev, check=False)  # our leftover: delete it (works on a free device)
    assert result.rc == 0, str(result)
    assert key_on_partition(img, key)
