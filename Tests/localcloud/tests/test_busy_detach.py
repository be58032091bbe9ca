"""Busy detach: DetachVolume of a volume still mounted inside its instance stays `busy`
until the instance unmounts it, stops or terminates, or DetachVolume is forced; a `busy`
fault forces the state whatever is mounted."""
from __future__ import annotations

import json
import subprocess
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config

from conftest import console_until, launch, state_of, wait_states

BUCKET = "lc-busy"


@pytest.fixture(scope="module")
def s3(endpoint):
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDBUSY",
                      aws_secret_access_key="x", config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=BUCKET)
    return s3


def debian_snapshot(ec2) -> str:
    image = ec2.describe_images(Owners=["136693071363"], Filters=[{"Name": "name", "Values": ["debian-12-amd64-2*"]}])
    return image["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]


def attachment(ec2, vol: str) -> tuple[str, str]:
    v = ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]
    return v["State"], (v["Attachments"][0]["State"] if v["Attachments"] else "-")


def mounting_instance(ec2, al2023, s3, name: str) -> tuple[str, str]:
    """An instance that mounts its /dev/sdf1 and unmounts it once S3 holds `name`: (instance, volume)."""
    go = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": name}, ExpiresIn=600)
    script = f"""#!/bin/sh
for i in $(seq 1 300); do [ -b /dev/sdf1 ] && break; sleep 0.2; done
mkdir -p /mnt/data && mount /dev/sdf1 /mnt/data && echo mounted
until curl -fsS -o /dev/null '{go}'; do sleep 0.3; done
umount /mnt/data && echo unmounted
"""
    iid = launch(ec2, al2023, UserData=script)
    wait_states(lambda: state_of(ec2, iid), "running")
    vol = ec2.create_volume(SnapshotId=debian_snapshot(ec2), AvailabilityZone="us-east-1a")["VolumeId"]
    ec2.attach_volume(VolumeId=vol, InstanceId=iid, Device="/dev/sdf")
    console_until(ec2, iid, "mounted")
    return iid, vol


def stays(ec2, vol: str, expected: tuple[str, str], seconds: float = 2.5) -> None:
    """The volume keeps `expected` for longer than a detach takes in the fast profile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert attachment(ec2, vol) == expected
        time.sleep(0.3)


def test_a_mounted_volume_stays_busy_until_the_instance_unmounts_it(endpoint, ec2, al2023, s3):
    iid, vol = mounting_instance(ec2, al2023, s3, "unmount-1")
    answer = ec2.detach_volume(VolumeId=vol)
    assert answer["State"] == "detaching"
    stays(ec2, vol, ("in-use", "busy"))
    assert ec2.detach_volume(VolumeId=vol)["State"] == "busy", "a second DetachVolume changes nothing"
    s3.put_object(Bucket=BUCKET, Key="unmount-1", Body=b"")
    console_until(ec2, iid, "unmounted")
    assert wait_states(lambda: attachment(ec2, vol)[0], "available")[-1] == "available"
    ec2.terminate_instances(InstanceIds=[iid])


def test_force_detaches_a_busy_volume_and_frees_its_loop_device(endpoint, ec2, al2023, s3):
    iid, vol = mounting_instance(ec2, al2023, s3, "never-1")
    ec2.detach_volume(VolumeId=vol)
    stays(ec2, vol, ("in-use", "busy"), 1)
    assert ec2.detach_volume(VolumeId=vol, Force=True)["State"] == "detaching"
    wait_states(lambda: attachment(ec2, vol)[0], "available")
    image = f"/var/tmp/keyrescue-localcloud/{endpoint.rsplit(':', 1)[1]}/volumes/{vol}.img"
    assert subprocess.run(["losetup", "-j", image], capture_output=True, text=True).stdout == "", \
        "the forced detach left the volume's loop device attached"
    ec2.terminate_instances(InstanceIds=[iid])


def test_a_stop_ends_the_busy_state(endpoint, ec2, al2023, s3):
    iid, vol = mounting_instance(ec2, al2023, s3, "never-2")
    ec2.detach_volume(VolumeId=vol)
    stays(ec2, vol, ("in-use", "busy"), 1)
    ec2.stop_instances(InstanceIds=[iid])
    wait_states(lambda: attachment(ec2, vol)[0], "available")
    assert state_of(ec2, iid) in ("stopping", "stopped")
    ec2.terminate_instances(InstanceIds=[iid])


def test_busy_fault_holds_an_unmounted_volume_until_forced(endpoint, ec2, al2023):
    iid = launch(ec2, al2023)
    wait_states(lambda: state_of(ec2, iid), "running")
    vols = [ec2.create_volume(Size=1, AvailabilityZone="us-east-1a")["VolumeId"] for _ in range(2)]
    for vol, dev in zip(vols, ("/dev/sdf", "/dev/sdg")):
        ec2.attach_volume(VolumeId=vol, InstanceId=iid, Device=dev)
        wait_states(lambda v=vol: attachment(ec2, v)[1], "attached")
    add = urllib.request.Request(f"{endpoint}/_localcloud/faults", method="POST", data=json.dumps(
        {"action": "DetachVolume", "kind": "busy", "volume_id": vols[1]}).encode())
    urllib.request.urlopen(add)
    ec2.detach_volume(VolumeId=vols[0])   # not the fault's volume: detaches as usual
    wait_states(lambda: attachment(ec2, vols[0])[0], "available")
    ec2.detach_volume(VolumeId=vols[1])
    stays(ec2, vols[1], ("in-use", "busy"))
    ec2.detach_volume(VolumeId=vols[1], Force=True)
    wait_states(lambda: attachment(ec2, vols[1])[0], "available")
    ec2.terminate_instances(InstanceIds=[iid])


def test_busy_fault_needs_a_volume_id_that_is_one(endpoint):
    bad = urllib.request.Request(f"{endpoint}/_localcloud/faults", method="POST", data=json.dumps(
        {"action": "DetachVolume", "kind": "busy", "volume_id": "i-0123"}).encode())
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(bad)
    assert answer.value.code == 400
    assert "volume_id must be a volume id" in json.loads(answer.value.read())["error"]
