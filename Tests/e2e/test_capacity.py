"""Capacity on the local cloud (issue 12 rules 3 and 10).

The final StartInstances: a capacity or limit error is retried with backoff; when it persists, the
run stops resumable (exit 6) — not rolled back, the key is written — with the instance stopped, its
root attached and the rescue host terminated, and `resume` finishes once it clears. A start that
falls back to `stopped` is reported with its StateReason, resumable the same way.

The rescue host: its types are tried in the plan's order, each with a ClientToken of its own; when
EC2 has none of them, the run ends before the target is touched (exit 3)."""
from __future__ import annotations

import json
import signal
import subprocess
import urllib.request

import boto3
import pytest

from conftest import assert_restored, describe, image, launch, root_volume_of, ssh_ok, ssh_port, wait_state


def post(cloud: str, what: str, spec: dict, method: str = "POST") -> None:
    body = json.dumps(spec).encode()
    urllib.request.urlopen(urllib.request.Request(f"{cloud}/_localcloud/{what}", data=body, method=method))


def fault(cloud: str, **spec) -> None:
    post(cloud, "faults", spec)


def get(cloud: str, what: str) -> list:
    return json.load(urllib.request.urlopen(f"{cloud}/_localcloud/{what}"))


def states_of(cloud: str, iid: str) -> list[str]:
    return [t["state"] for t in get(cloud, "transitions") if t["instance_id"] == iid]


@pytest.fixture
def offered(cloud):
    """Sets which types a zone offers (RunInstances of others answers Unsupported); moto's table after."""
    def offer(zone: str, types: list[str]) -> None:
        post(cloud, "offerings", {"region": "us-east-1", "zone": zone, "types": types})
    yield offer
    urllib.request.urlopen(urllib.request.Request(f"{cloud}/_localcloud/offerings", method="DELETE"))


def assert_left_for_resume(ec2, rescuer, iid: str, root: str) -> str:
    """needs-attention at rootReturned: the root on the target at its root device, the host terminated."""
    [run_id] = rescuer.run_ids()
    record = rescuer.record(run_id)
    assert record["status"] == "needs-attention" and record["step"] == "rootReturned", record["history"][-3:]
    inst = describe(ec2, iid)
    assert inst["State"]["Name"] == "stopped"
    assert [m["Ebs"]["VolumeId"] for m in inst["BlockDeviceMappings"]
            if m["DeviceName"] == inst["RootDeviceName"]] == [root]
    assert {t["Key"]: t["Value"] for t in inst.get("Tags", [])}.get("keyrescue:run") == run_id
    assert describe(ec2, record["rescueInstanceID"])["State"]["Name"] in ("shutting-down", "terminated")
    return run_id


def test_a_short_capacity_shortage_is_waited_out(ec2, cloud, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    fault(cloud, action="StartInstances", kind="capacity", count=2)
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "new"), "--yes", "--verify", "none")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count(f"no capacity to start {iid} yet") == 2
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), tmp_path / "new")


@pytest.mark.parametrize("kind, code", [
    ("capacity", "InsufficientInstanceCapacity"), ("capacity-host", "InsufficientCapacityOnHost"),
    ("instance-limit", "InstanceLimitExceeded"), ("vcpu-limit", "VcpuLimitExceeded")])
def test_a_lasting_shortage_at_the_final_start_leaves_the_run_resumable(ec2, cloud, rescuer, tmp_path, kind, code):
    iid, _ = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    fault(cloud, action="StartInstances", kind=kind, count=5)   # the first attempt and the four retries
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "new"), "--yes", "--verify", "none")
    assert out.returncode == 6, out.stdout + out.stderr
    assert code in out.stderr and "keyrescue resume" in out.stderr
    run_id = assert_left_for_resume(ec2, rescuer, iid, root)
    assert "no capacity" in rescuer.record(run_id)["history"][-1]

    out = rescuer.run("resume", run_id)
    assert out.returncode == 0, out.stdout + out.stderr
    assert rescuer.record(run_id)["status"] == "done"
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), tmp_path / "new")


def test_a_start_that_falls_back_to_stopped_is_reported_with_its_state_reason(ec2, cloud, rescuer, tmp_path):
    """A root encrypted with a customer-managed key whose policy stops allowing kms:CreateGrant after
    the root went back: EC2 accepts StartInstances, then the instance falls back to `stopped`."""
    kms = boto3.client("kms", endpoint_url=cloud, region_name="us-east-1",
                       aws_access_key_id="AKIDE2ETEST", aws_secret_access_key="secret")
    account = "arn:aws:iam::123456789012:root"
    allow = {"Effect": "Allow", "Principal": {"AWS": account}, "Action": "kms:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:CreateGrant", "Resource": "*"}
    key = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [allow]}))["KeyMetadata"]
    iid = launch_encrypted(ec2, tmp_path, key["KeyId"])
    root = root_volume_of(ec2, iid)
    new = tmp_path / "new"
    out = rescuer.run("reset", iid, "--generate-key", str(new), "--yes", "--verify", "none",
                      KEYRESCUE_TEST_KILL_AFTER="rootReturned")
    assert out.returncode == -signal.SIGKILL, out.stdout + out.stderr
    [run_id] = rescuer.run_ids()

    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default",
                       Policy=json.dumps({"Version": "2012-10-17", "Statement": [allow, deny]}))
    out = rescuer.run("resume", run_id)
    assert out.returncode == 6, out.stdout + out.stderr
    assert "went back to stopped" in out.stderr and "Client.InternalError" in out.stderr, out.stderr
    assert f"keyrescue resume {run_id}" in out.stderr
    record = rescuer.record(run_id)
    assert record["status"] == "needs-attention" and record["step"] == "rootReturned"
    assert "Client.InternalError" in record["lastError"]
    assert describe(ec2, iid)["State"]["Name"] == "stopped"

    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default",
                       Policy=json.dumps({"Version": "2012-10-17", "Statement": [allow]}))
    out = rescuer.run("resume", run_id)
    assert out.returncode == 0, out.stdout + out.stderr
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), new)


def launch_encrypted(ec2, tmp_path, key_id: str) -> str:
    """Like conftest.launch, with the root encrypted under `key_id`."""
    key = tmp_path / "lost-encrypted"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    ec2.import_key_pair(KeyName=key.name + tmp_path.name, PublicKeyMaterial=key.with_suffix(".pub").read_bytes())
    iid = ec2.run_instances(
        ImageId=image(ec2, "debian-12-amd64-2*"), InstanceType="t3.micro", KeyName=key.name + tmp_path.name,
        MinCount=1, MaxCount=1, BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {
            "Encrypted": True, "KmsKeyId": key_id, "DeleteOnTermination": True}}])["Instances"][0]["InstanceId"]
    wait_state(ec2, iid, "running")
    return iid


def test_a_rescue_host_type_without_capacity_gives_way_to_the_next(ec2, cloud, rescuer, tmp_path, offered):
    iid, _ = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    offered(describe(ec2, iid)["Placement"]["AvailabilityZone"], ["t3a.micro", "m5.large"])
    fault(cloud, action="RunInstances", kind="capacity", count=1)
    new = tmp_path / "new"
    out = rescuer.run("reset", iid, "--generate-key", str(new), "--yes", "--verify", "none")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "EC2 refused the rescue host type t3a.micro (InsufficientInstanceCapacity); trying m5.large" in out.stdout
    [run_id] = rescuer.run_ids()
    record = rescuer.record(run_id)
    assert [(f["type"], f["code"]) for f in record["rescueTypeFailures"]] == [("t3a.micro", "InsufficientInstanceCapacity")]
    assert describe(ec2, record["rescueInstanceID"])["InstanceType"] == "m5.large"
    launches = [c for c in get(cloud, "calls") if c["action"] == "RunInstances" and not c["dry_run"]
                and (c["client_token"] or "").startswith(run_id)]
    assert [c["client_token"] for c in launches] == [run_id, f"{run_id}-t1"], "a new ClientToken for the next type"
    assert [c["error_code"] for c in launches] == ["InsufficientInstanceCapacity", None]
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), new)


def test_when_no_rescue_host_type_has_capacity_the_target_is_never_stopped(ec2, cloud, rescuer, tmp_path, offered):
    iid, lost = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    zone = describe(ec2, iid)["Placement"]["AvailabilityZone"]
    offered(zone, ["t3a.micro", "m5.large"])
    before = states_of(cloud, iid)
    fault(cloud, action="RunInstances", kind="capacity", count=1)
    fault(cloud, action="RunInstances", kind="capacity-host", count=1)
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "new"), "--yes", "--verify", "none")
    assert out.returncode == 3, out.stdout + out.stderr
    # Each type named with its error (which fault meets which type is the cloud's order).
    assert "t3a.micro: Insufficient" in out.stderr and "m5.large: Insufficient" in out.stderr
    assert "InsufficientInstanceCapacity" in out.stderr and "InsufficientCapacityOnHost" in out.stderr
    assert "never stopped" in out.stderr and "--instance-type" in out.stderr and zone in out.stderr
    assert states_of(cloud, iid) == before, "the target must never change state"
    [run_id] = rescuer.run_ids()
    assert rescuer.record(run_id)["status"] == "rolled-back"
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), lost)
