"""The AWS CLI driven through a small rescue by hand, as the EC2 documentation describes it:
stop the target, detach its root, attach it to a rescue instance, fix it there, detach,
attach back as the root device, start."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest


@pytest.fixture
def aws(endpoint):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDAWSCLI", AWS_SECRET_ACCESS_KEY="secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")

    def run(*args: str, ok: bool = True):
        proc = subprocess.run(["aws", "--endpoint-url", endpoint, "--output", "json", "ec2", *args],
                              capture_output=True, text=True, env=env, timeout=120)
        if ok:
            assert proc.returncode == 0, proc.stderr
            return json.loads(proc.stdout) if proc.stdout.strip() else {}
        assert proc.returncode != 0
        return proc.stderr
    return run


def poll(read, want, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if read() == want:
            return
        time.sleep(0.3)
    raise AssertionError(f"never reached {want}")


def test_rescue_by_hand_with_the_aws_cli(aws, al2023):
    debian = aws("describe-images", "--owners", "136693071363",
                 "--filters", "Name=name,Values=debian-12-amd64-2*")["Images"][0]
    target = aws("run-instances", "--image-id", debian["ImageId"], "--instance-type", "t3.micro",
                 "--count", "1")["Instances"][0]
    tid = target["InstanceId"]
    root_device = debian["RootDeviceName"]

    def instance(iid):
        return aws("describe-instances", "--instance-ids", iid)["Reservations"][0]["Instances"][0]

    def volume(vid):
        return aws("describe-volumes", "--volume-ids", vid)["Volumes"][0]

    rescue_script = """#!/bin/bash
for i in $(seq 1 600); do [ -b /dev/sdf ] && break; sleep 0.2; done
mkdir -p /mnt/target && mount /dev/sdf1 /mnt/target
echo "ssh-ed25519 AAAAnewkey rescued" >> /mnt/target/home/admin/.ssh/authorized_keys 2>/dev/null || {
    mkdir -p /mnt/target/home/admin/.ssh; echo "ssh-ed25519 AAAAnewkey rescued" > /mnt/target/home/admin/.ssh/authorized_keys; }
echo "target says: $(. /mnt/target/etc/os-release; echo $ID)"
umount /mnt/target && echo rescued-ok
"""
    rescue = aws("run-instances", "--image-id", al2023, "--instance-type", "t3.micro", "--count", "1",
                 "--user-data", rescue_script)["Instances"][0]["InstanceId"]
    poll(lambda: instance(tid)["State"]["Name"], "running")
    root = next(b["Ebs"]["VolumeId"] for b in instance(tid)["BlockDeviceMappings"] if b["DeviceName"] == root_device)

    assert "IncorrectState" in aws("detach-volume", "--volume-id", root, ok=False)
    aws("stop-instances", "--instance-ids", tid)
    poll(lambda: instance(tid)["State"]["Name"], "stopped")
    aws("detach-volume", "--volume-id", root)
    poll(lambda: volume(root)["State"], "available")
    assert "IncorrectInstanceState" in aws("start-instances", "--instance-ids", tid, ok=False)

    poll(lambda: instance(rescue)["State"]["Name"], "running")
    aws("attach-volume", "--volume-id", root, "--instance-id", rescue, "--device", "/dev/sdf")
    assert "VolumeInUse" in aws("attach-volume", "--volume-id", root, "--instance-id", tid,
                                "--device", root_device, ok=False)
    deadline = time.monotonic() + 60
    while "rescued-ok" not in (out := aws("get-console-output", "--instance-id", rescue, "--latest").get("Output", "")):
        assert time.monotonic() < deadline, out
        time.sleep(0.5)
    assert "target says: debian" in out

    aws("detach-volume", "--volume-id", root)
    poll(lambda: volume(root)["State"], "available")
    aws("attach-volume", "--volume-id", root, "--instance-id", tid, "--device", root_device)
    poll(lambda: volume(root)["Attachments"][0]["State"], "attached")
    aws("start-instances", "--instance-ids", tid)
    poll(lambda: instance(tid)["State"]["Name"], "running")
    mapping = next(b for b in instance(tid)["BlockDeviceMappings"] if b["DeviceName"] == root_device)
    assert mapping["Ebs"]["VolumeId"] == root
    assert mapping["Ebs"]["DeleteOnTermination"] is False   # AttachVolume resets it, as on EC2
    aws("terminate-instances", "--instance-ids", tid, rescue)
    poll(lambda: instance(rescue)["State"]["Name"], "terminated")
    assert volume(root)["State"] in ("in-use", "available")   # the user's root volume survives
