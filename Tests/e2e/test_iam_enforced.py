"""A whole rescue under IAM enforcement: moto checks every signature and every policy, and the
user holds exactly the actions of deploy/iam-policy.json (with `Resource: *`, because moto ignores
conditions and denies resource-scoped EC2 statements). Nothing runs instances in moto, so this test
plays the rescue host: once the root volume is attached to it, it puts the agent's report where the
presigned PUT would have. With one action taken away, keyrescue refuses before changing anything and
names the action."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from conftest import AGENT, KEYRESCUE, REPO

POLICY = json.loads((REPO / "deploy/iam-policy.json").read_text())
POLICY_ACTIONS = sorted({a for s in POLICY["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])})
REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_auth(tmp_path_factory):
    """moto_server checking signatures and policies from its 4th call on; the first three make an admin."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=log.open("w"), stderr=subprocess.STDOUT,
                            env=dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3"), start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    iam = boto3.client("iam", endpoint_url=url, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    iam.create_user(UserName="admin")
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    admin = (key["AccessKeyId"], key["SecretAccessKey"])
    give_default_vpc_an_internet_route(client(url, admin, "ec2"))
    yield url, admin
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)


def client(url: str, creds: tuple[str, str], service: str):
    return boto3.client(service, endpoint_url=url, region_name=REGION, aws_access_key_id=creds[0], aws_secret_access_key=creds[1])


def give_default_vpc_an_internet_route(ec2) -> None:
    """As in a real account (moto's default VPC has no gateway), so the rescue host reaches S3."""
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                              {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]
    ec2.create_route(RouteTableId=main["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)


def user_with(url: str, admin: tuple[str, str], name: str, actions: list[str]) -> tuple[str, str]:
    iam = client(url, admin, "iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="keyrescue", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def target(url: str, admin: tuple[str, str]) -> tuple[str, str]:
    """A running instance of a Linux AMI whose root is at /dev/sda1 (where moto always puts it)."""
    ec2 = client(url, admin, "ec2")
    image = next(i["ImageId"] for i in ec2.describe_images(Filters=[{"Name": "root-device-name", "Values": ["/dev/sda1"]}])["Images"]
                 if i.get("Platform") != "windows" and i.get("RootDeviceType") == "ebs")
    iid = ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    root = next(m["Ebs"]["VolumeId"] for m in inst["BlockDeviceMappings"] if m["DeviceName"] == inst["RootDeviceName"])
    return inst["InstanceId"], root


def keyrescue(url: str, creds: tuple[str, str], state: Path, *args: str, background: bool = False):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=creds[0], AWS_SECRET_ACCESS_KEY=creds[1], AWS_DEFAULT_REGION=REGION,
               XDG_STATE_HOME=str(state), KEYRESCUE_AGENT=str(AGENT))
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    cmd = [str(KEYRESCUE), *args, "--endpoint-url", url, "--region", REGION]
    if background:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


def play_rescue_host(url: str, admin: tuple[str, str], instance: str, volume: str, state: Path, proc: subprocess.Popen) -> None:
    """Puts the `ready` object the bootstrap would put once the run launched its host (the target is
    stopped only then), waits until the root volume is attached to another instance (the rescue
    host), then puts the report the agent would have put where the journal says the run expects it."""
    ec2, s3 = client(url, admin, "ec2"), client(url, admin, "s3")
    deadline = time.monotonic() + 120
    ready = False
    while proc.poll() is None and time.monotonic() < deadline:
        runs = list((state / "keyrescue" / "runs").glob("*.json")) if (state / "keyrescue" / "runs").exists() else []
        if not ready and runs:
            record = json.loads(runs[0].read_text())
            if record.get("rescueInstanceID"):
                delivery = record["plan"]["delivery"]
                s3.put_object(Bucket=delivery["bucket"], Key=delivery["prefix"] + "ready", Body=b"")
                ready = True
        attachments = ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["Attachments"]
        if attachments and attachments[0]["InstanceId"] != instance and attachments[0]["State"] == "attached":
            record = json.loads(next((state / "keyrescue" / "runs").glob("*.json")).read_text())
            delivery = record["plan"]["delivery"]
            report = {"version": 1, "runID": record["plan"]["runID"], "ok": True, "agentVersion": "iam-test", "user": "ec2-user",
                      "authorizedKeysPath": "/home/ec2-user/.ssh/authorized_keys", "filesystem": "xfs",
                      "hostKeys": [], "warnings": [], "alreadyPresent": False, "dryRun": False, "durations": []}
            s3.put_object(Bucket=delivery["bucket"], Key=delivery["prefix"] + "report.json", Body=json.dumps(report).encode())
            return
        time.sleep(0.5)


def test_a_rescue_succeeds_with_only_the_policy_actions(moto_auth, tmp_path):
    url, admin = moto_auth
    creds = user_with(url, admin, "keyrescue-exact", POLICY_ACTIONS)
    instance, volume = target(url, admin)
    key = tmp_path / "new"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    proc = keyrescue(url, creds, tmp_path / "state", "reset", instance, "--public-key", f"{key}.pub", "--yes",
                     "--verify", "none", background=True)
    play_rescue_host(url, admin, instance, volume, tmp_path / "state", proc)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err
    assert "lack the IAM permission" not in out + err
    inst = client(url, admin, "ec2").describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    assert inst["State"]["Name"] == "running"
    assert [m["Ebs"]["VolumeId"] for m in inst["BlockDeviceMappings"] if m["DeviceName"] == inst["RootDeviceName"]] == [volume]
    snapshots = client(url, admin, "ec2").describe_snapshots(Filters=[{"Name": "volume-id", "Values": [volume]}])["Snapshots"]
    assert len(snapshots) == 1, "the rescue keeps one snapshot of the root volume"


@pytest.mark.parametrize("removed", ["ec2:AttachVolume", "ec2:StopInstances", "ec2:RunInstances"])
def test_a_missing_action_is_named_before_anything_changes(moto_auth, tmp_path, removed):
    url, admin = moto_auth
    creds = user_with(url, admin, f"keyrescue-without-{removed.split(':')[1]}", [a for a in POLICY_ACTIONS if a != removed])
    instance, volume = target(url, admin)
    key = tmp_path / "new"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    ec2 = client(url, admin, "ec2")
    before = ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    for command in (["plan", instance], ["reset", instance, "--yes", "--verify", "none"]):
        out = keyrescue(url, creds, tmp_path / "state", *command, "--public-key", f"{key}.pub")
        assert out.returncode == 5, f"{command[0]}: exit {out.returncode}\n{out.stdout}{out.stderr}"
        assert removed in out.stderr, out.stderr
        assert "nothing was changed" in out.stderr
    inst = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    assert inst["State"]["Name"] == "running"
    assert not [t for t in inst.get("Tags", []) if t["Key"].startswith("keyrescue:")]
    assert ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == before
