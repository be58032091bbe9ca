"""scripts/localcloud: start answers on the endpoint it prints last; stop leaves nothing behind."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, client, launch, needs_root, state_of, wait_states


def loops_under(path: str) -> list[str]:
    out = subprocess.run(["losetup", "--list", "--noheadings", "-O", "NAME,BACK-FILE"],
                         capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if path in line]


@needs_root
def test_stop_leaves_no_loop_device_process_or_file():
    out = subprocess.run([str(REPO / "scripts/localcloud"), "start"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip().splitlines()[-1]
    assert url.startswith("http://127.0.0.1:")
    port = url.rsplit(":", 1)[1]
    state = f"/var/tmp/keyrescue-localcloud/{port}"
    try:
        ec2 = client(url, "ec2")
        ami = client(url, "ssm").get_parameter(
            Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")["Parameter"]["Value"]
        iid = launch(ec2, ami, UserData="#!/bin/sh\nsleep 600\n")
        vol = ec2.create_volume(Size=1, AvailabilityZone="us-east-1a")["VolumeId"]
        wait_states(lambda: state_of(ec2, iid), "running")
        ec2.attach_volume(VolumeId=vol, InstanceId=iid, Device="/dev/sdf")
        wait_states(lambda: ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["Attachments"][0]["State"], "attached")
        time.sleep(0.5)
        assert len(loops_under(state)) >= 2     # the root and the attached volume, while it runs
        status = subprocess.run([str(REPO / "scripts/localcloud"), "status", "--port", port],
                                capture_output=True, text=True)
        assert status.returncode == 0 and status.stdout.strip() == url
    finally:
        subprocess.run([str(REPO / "scripts/localcloud"), "stop", "--port", port], timeout=120)
    assert loops_under(state) == []
    assert subprocess.run(["pgrep", "-f", state], capture_output=True).returncode == 1
    assert not Path(state).exists()
    assert subprocess.run([str(REPO / "scripts/localcloud"), "status", "--port", port]).returncode == 1
