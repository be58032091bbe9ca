"""One local cloud for the whole test session, started and stopped through scripts/localcloud."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "Tests/localcloud"))

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="instances need root: loop devices, mount and PID namespaces")


@pytest.fixture(scope="session")
def endpoint():
    if os.geteuid() != 0:
        pytest.skip("the local cloud with instances needs root (loop devices, namespaces)")
    out = subprocess.run([str(REPO / "scripts/localcloud"), "start", "--profile", "fast"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip().splitlines()[-1]
    yield url
    subprocess.run([str(REPO / "scripts/localcloud"), "stop", "--port", url.rsplit(":", 1)[1]], timeout=120)


def client(endpoint: str, service: str, key: str = "AKIDLOCALCLOUDTEST"):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key="secret")


@pytest.fixture
def ec2(endpoint):
    return client(endpoint, "ec2")


@pytest.fixture(scope="session")
def al2023(endpoint):
    ssm = client(endpoint, "ssm")
    return ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")["Parameter"]["Value"]


def state_of(ec2, instance_id: str) -> str:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]


def wait_states(read, final: str, timeout: float = 60) -> list[str]:
    """Polls read() until it answers `final`; returns the distinct states seen, in order."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read()
        if not seen or seen[-1] != state:
            seen.append(state)
        if state == final:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"never reached {final}; saw {seen}")


def launch(ec2, image_id: str, **kwargs) -> str:
    kwargs.setdefault("InstanceType", "t3.micro")
    return ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, **kwargs)["Instances"][0]["InstanceId"]


def console_until(ec2, instance_id: str, needle: str, count: int = 1, timeout: float = 60) -> str:
    """Polls GetConsoleOutput until `needle` appears `count` times; returns the text. `Latest`: what
    the instance printed so far (Nitro types only); without it EC2 gives what was posted at the last
    running/stopped transition, which would never show a line printed after the boot."""
    deadline = time.monotonic() + timeout
    while (text := ec2.get_console_output(InstanceId=instance_id, Latest=True).get("Output", "")).count(needle) < count:
        assert time.monotonic() < deadline, f"{needle!r} never appeared {count} time(s) on {instance_id}:\n{text}"
        time.sleep(0.3)
    return text


@contextmanager
def separate_cloud():
    """A cloud of the test's own, through scripts/localcloud: (url, port, state directory)."""
    out = subprocess.run([str(REPO / "scripts/localcloud"), "start", "--profile", "fast"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip().splitlines()[-1]
    port = url.rsplit(":", 1)[1]
    try:
        yield url, port, f"/var/tmp/keyrescue-localcloud/{port}"
    finally:
        subprocess.run([str(REPO / "scripts/localcloud"), "stop", "--port", port], timeout=300)
