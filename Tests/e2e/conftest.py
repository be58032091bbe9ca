"""The controller end to end against the local test cloud (namespace instances: each rescue host
really runs its user-data, downloads the static agent through a presigned URL and fixes the disk).
Needs root, the local cloud, the built `keyrescue` and the static agent."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOCALCLOUD = REPO / "scripts/localcloud"
KEYRESCUE = Path(os.environ.get("KEYRESCUE_BIN", REPO / ".build/debug/keyrescue"))
AGENT = Path(os.environ.get("KEYRESCUE_AGENT", REPO / ".build/agent/keyrescue-agent"))
DEBIAN_OWNER = "136693071363"

missing = [why for ok, why in (
    (os.geteuid() == 0, "root (loop devices, namespaces)"),
    (KEYRESCUE.exists(), f"{KEYRESCUE} (swift build)"),
    (AGENT.exists(), f"{AGENT} (scripts/build-agent)"),
    (shutil.which("ssh") is not None, "ssh"),
) if not ok]
if missing:
    pytest.skip("controller end-to-end tests need " + ", ".join(missing), allow_module_level=True)


@pytest.fixture(scope="session")
def cloud():
    out = subprocess.run([str(LOCALCLOUD), "start", "--profile", "fast"], capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip().splitlines()[-1]
    yield url
    subprocess.run([str(LOCALCLOUD), "stop", "--port", url.rsplit(":", 1)[1]], timeout=300)


@pytest.fixture(scope="session")
def ec2(cloud):
    import boto3
    return boto3.client("ec2", endpoint_url=cloud, region_name="us-east-1",
                        aws_access_key_id="AKIDE2ETEST", aws_secret_access_key="secret")


class Rescuer:
    """Runs `keyrescue` with its own state directory (one workstation) against the cloud."""

    def __init__(self, cloud: str, state: Path):
        self.cloud = cloud
        self.state = state

    def env(self, **extra: str) -> dict:
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDE2ETEST", AWS_SECRET_ACCESS_KEY="secret",
                   AWS_DEFAULT_REGION="us-east-1", XDG_STATE_HOME=str(self.state), KEYRESCUE_AGENT=str(AGENT))
        env.pop("AWS_PROFILE", None)
        env.update(extra)
        return env

    def run(self, *args: str, timeout: float = 600, **extra: str) -> subprocess.CompletedProcess:
        cmd = [str(KEYRESCUE), *args, "--endpoint-url", self.cloud, "--region", "us-east-1"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=self.env(**extra))

    def run_ids(self) -> list[str]:
        runs = self.state / "keyrescue" / "runs"
        return sorted(p.stem for p in runs.glob("*.json")) if runs.exists() else []

    def record(self, run_id: str) -> dict:
        return json.loads((self.state / "keyrescue" / "runs" / f"{run_id}.json").read_text())


@pytest.fixture
def rescuer(cloud, tmp_path):
    return Rescuer(cloud, tmp_path / "state")


def image(ec2, pattern: str) -> str:
    return ec2.describe_images(Owners=[DEBIAN_OWNER], Filters=[{"Name": "name", "Values": [pattern]}])["Images"][0]["ImageId"]


def describe(ec2, iid: str) -> dict:
    return ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]


def wait_state(ec2, iid: str, state: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while describe(ec2, iid)["State"]["Name"] != state:
        assert time.monotonic() < deadline, f"{iid} never became {state}"
        time.sleep(0.5)


def launch(ec2, tmp_path: Path, pattern: str = "debian-12-amd64-2*") -> tuple[str, Path]:
    """An instance of a Debian seed image with a key pair of its own (the 'lost' key)."""
    key = tmp_path / f"lost-{time.monotonic_ns()}"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    name = key.name
    ec2.import_key_pair(KeyName=name, PublicKeyMaterial=key.with_suffix(".pub").read_bytes())
    iid = ec2.run_instances(ImageId=image(ec2, pattern), InstanceType="t3.micro", KeyName=name,
                            MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wait_state(ec2, iid, "running")
    return iid, key


def ssh_port(cloud: str, iid: str, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while True:
        for r in json.load(urllib.request.urlopen(f"{cloud}/_localcloud/instances")):
            if r["instance_id"] == iid and r.get("ssh"):
                return int(r["ssh"][1])
        assert time.monotonic() < deadline, f"no ssh endpoint for {iid}"
        time.sleep(1)


def ssh_ok(port: int, key: Path, user: str = "admin", timeout: float = 90) -> bool:
    """True once `ssh -i key` logs in (sshd may still be starting), False if it keeps refusing."""
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(["ssh", "-i", str(key), "-p", str(port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                              "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
                              f"{user}@127.0.0.1", "true"], capture_output=True, text=True, timeout=60)
        if out.returncode == 0:
            return True
        if "Permission denied" in out.stderr or time.monotonic() > deadline:
            return False
        time.sleep(2)


def assert_restored(ec2, iid: str, root_volume: str, state: str = "running") -> None:
    """The instance as it was: its root volume at /dev/xvda with DeleteOnTermination, its state,
    no keyrescue tags, no rescue host left running."""
    wait_state(ec2, iid, state)
    inst = describe(ec2, iid)
    root = [m for m in inst["BlockDeviceMappings"] if m["DeviceName"] == inst["RootDeviceName"]]
    assert root and root[0]["Ebs"]["VolumeId"] == root_volume
    assert root[0]["Ebs"]["DeleteOnTermination"] is True
    assert not [t for t in inst.get("Tags", []) if t["Key"].startswith("keyrescue:")]
    hosts = ec2.describe_instances(Filters=[{"Name": "tag-key", "Values": ["keyrescue:run"]},
                                            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])
    assert not [i["InstanceId"] for r in hosts["Reservations"] for i in r["Instances"]], "a rescue host is still alive"


def root_volume_of(ec2, iid: str) -> str:
    inst = describe(ec2, iid)
    return [m for m in inst["BlockDeviceMappings"] if m["DeviceName"] == inst["RootDeviceName"]][0]["Ebs"]["VolumeId"]
