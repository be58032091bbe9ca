"""The demo's path through the whole local cloud in `vm` mode: a Debian instance launched with a key
pair boots in QEMU, `ssh` logs in on the port the cloud publishes, and it boots again after a stop and
start (what the rescue does last). Needs the cloud (scripts/localcloud) besides QEMU and root."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
LOCALCLOUD = REPO / "scripts/localcloud"

pytestmark = pytest.mark.skipif(
    not shutil.which("qemu-system-x86_64") or os.geteuid() != 0 or not LOCALCLOUD.exists(),
    reason="boots the local cloud's instances in QEMU: needs qemu-system-x86_64, root and scripts/localcloud")

BOOT_TIMEOUT = 600


@pytest.fixture(scope="module")
def cloud():
    out = subprocess.run([str(LOCALCLOUD), "start", "--profile", "fast", "--instances", "vm"],
                         capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip().splitlines()[-1]
    yield url
    subprocess.run([str(LOCALCLOUD), "stop", "--port", url.rsplit(":", 1)[1]], timeout=300)


@pytest.fixture(scope="module")
def ec2(cloud):
    import boto3
    return boto3.client("ec2", endpoint_url=cloud, region_name="us-east-1",
                        aws_access_key_id="AKIDVMTEST", aws_secret_access_key="secret")


def state_of(ec2, iid: str) -> str:
    return ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"]


def wait_state(ec2, iid: str, state: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while state_of(ec2, iid) != state:
        assert time.monotonic() < deadline, f"{iid} never reached {state}"
        time.sleep(0.5)


def ssh_endpoint(cloud: str, iid: str) -> tuple[str, int] | None:
    for record in json.load(urllib.request.urlopen(f"{cloud}/_localcloud/instances")):
        if record["instance_id"] == iid and record["ssh"]:
            return record["ssh"][0], record["ssh"][1]
    return None


def ssh_until_it_answers(endpoint: tuple[str, int], key: Path, user: str, command: str) -> str:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while True:
        out = subprocess.run(["ssh", "-i", str(key), "-p", str(endpoint[1]), "-o", "BatchMode=yes",
                              "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                              "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", f"{user}@{endpoint[0]}", command],
                             capture_output=True, text=True, timeout=120)
        if out.returncode == 0:
            return out.stdout
        assert time.monotonic() < deadline, f"ssh never logged in: {out.stderr}"
        time.sleep(2)


def test_debian_instance_boots_answers_ssh_with_its_key_pair_and_again_after_stop_start(cloud, ec2, tmp_path):
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    ec2.import_key_pair(KeyName="vm-demo-path", PublicKeyMaterial=key.with_suffix(".pub").read_bytes())
    debian = ec2.describe_images(Owners=["136693071363"],
                                 Filters=[{"Name": "name", "Values": ["debian-12-amd64-2*"]}])["Images"][0]
    iid = ec2.run_instances(ImageId=debian["ImageId"], InstanceType="t3.micro", KeyName="vm-demo-path",
                            MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    try:
        wait_state(ec2, iid, "running")
        first = ssh_endpoint(cloud, iid)
        assert first is not None and first[0] == "127.0.0.1"
        assert ssh_until_it_answers(first, key, "admin", "id -un; findmnt -no SOURCE /").split() == \
            ["admin", "/dev/nvme0n1p1"]
        deadline = time.monotonic() + 120          # sshd may answer before the guest's setup ends
        while "localcloud: guest setup done" not in ec2.get_console_output(InstanceId=iid, Latest=True)["Output"]:
            assert time.monotonic() < deadline, "the guest's setup never finished (GetConsoleOutput)"
            time.sleep(1)

        ec2.stop_instances(InstanceIds=[iid])
        wait_state(ec2, iid, "stopped")
        assert ssh_endpoint(cloud, iid) is None
        ec2.start_instances(InstanceIds=[iid])
        wait_state(ec2, iid, "running")
        again = ssh_endpoint(cloud, iid)
        assert again is not None
        assert ssh_until_it_answers(again, key, "admin", "id -un").strip() == "admin"
    finally:
        ec2.terminate_instances(InstanceIds=[iid])
        wait_state(ec2, iid, "terminated")
