"""`scripts/localcloud stop` leaves nothing of its own behind: no loop device, no kernel
partition, no network namespace, even when its instances still had filesystems mounted
and files open on them."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import client, console_until, launch, separate_cloud, state_of, wait_states


def loops_under(directory: str) -> dict[str, str]:
    out = subprocess.run(["losetup", "--list", "--noheadings", "-O", "NAME,BACK-FILE"],
                         capture_output=True, text=True).stdout
    return {name: path for name, path in (line.split(None, 1) for line in out.splitlines() if " " in line.strip())
            if path.startswith(directory + "/")}


def partitions_of(loop: str) -> list[str]:
    base = os.path.basename(loop)
    return sorted(p.name for p in Path(f"/sys/class/block/{base}").glob(f"{base}p*"))


def test_stop_leaves_no_loop_device_partition_or_namespace():
    with separate_cloud() as (url, port, state):
        ec2 = client(url, "ec2")
        al2023 = client(url, "ssm").get_parameter(
            Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")["Parameter"]["Value"]
        snapshot = ec2.describe_images(ImageIds=[al2023])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
        # Holds its attached volume mounted, with a file open on it, until the end.
        busy = launch(ec2, al2023, InstanceType="m5d.large", UserData="""#!/bin/sh
for i in $(seq 1 300); do [ -b /dev/sdf1 ] && break; sleep 0.2; done
mkdir -p /mnt/data && mount -o nouuid /dev/sdf1 /mnt/data && echo mounted
exec 3</mnt/data/etc/os-release
sleep 600
""")
        wait_states(lambda: state_of(ec2, busy), "running")
        vol = ec2.create_volume(SnapshotId=snapshot, AvailabilityZone="us-east-1a")["VolumeId"]
        ec2.attach_volume(VolumeId=vol, InstanceId=busy, Device="/dev/sdf")
        console_until(ec2, busy, "mounted")
        stopped = launch(ec2, al2023)
        wait_states(lambda: state_of(ec2, stopped), "running")
        ec2.stop_instances(InstanceIds=[stopped])
        wait_states(lambda: state_of(ec2, stopped), "stopped")
        used = loops_under(state)
        assert len(used) >= 3, f"root, volume and instance store of the running instance: {used}"
        namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert f"lc{port}-{busy}" in namespaces
    assert not loops_under(state)
    for loop in used:
        still = loops_under("")  # every attached loop device, whoever's
        if loop not in still:   # ours, detached: no partition may outlive it
            assert partitions_of(loop) == [], f"{loop} kept {partitions_of(loop)} after the cloud stopped"
    assert f"lc{port}-" not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not Path(state).exists()
