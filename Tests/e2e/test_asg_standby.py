"""Issue 12, rule 7: an InService Auto Scaling member is rescued with --standby. It leaves service
(EnterStandby, desired capacity decremented) once the rescue host is ready and before the stop, and
returns (ExitStandby) once it runs again; the local cloud's group replaces a member it finds stopped
while InService (asg_grace), so a rescue without Standby would lose the instance. A SIGKILL right
after EnterStandby reached the group is undone by `rollback` (also from another workstation, from
the tags) and finished by `resume`."""
from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request
from datetime import datetime

import boto3
import pytest

from test_iam_policy import policy_actions

from conftest import Rescuer, assert_restored, describe, image, root_volume_of, ssh_ok, ssh_port, wait_state


def autoscaling(cloud: str):
    return boto3.client("autoscaling", endpoint_url=cloud, region_name="us-east-1",
                        aws_access_key_id="AKIDE2ETEST", aws_secret_access_key="secret")


def member(ec2, cloud: str, tmp_path) -> tuple[str, str, object]:
    """The only InService member of a new group (desired 1, minimum 0), launched with a key pair
    of its own (the 'lost' key); returns (group, instance, lost key)."""
    name = f"kr-standby-{time.monotonic_ns()}"
    lost = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(lost)], check=True)
    ec2.import_key_pair(KeyName=name, PublicKeyMaterial=lost.with_suffix(".pub").read_bytes())
    ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={
        "ImageId": image(ec2, "debian-12-amd64-2*"), "InstanceType": "t3.micro", "KeyName": name})
    autoscaling(cloud).create_auto_scaling_group(
        AutoScalingGroupName=name, LaunchTemplate={"LaunchTemplateName": name}, MinSize=0, MaxSize=2,
        DesiredCapacity=1, AvailabilityZones=["us-east-1a"])
    deadline = time.monotonic() + 120
    while True:
        members = group(cloud, name)["Instances"]
        if members and members[0]["LifecycleState"] == "InService":
            wait_state(ec2, members[0]["InstanceId"], "running")
            return name, members[0]["InstanceId"], lost
        assert time.monotonic() < deadline, "the group never had an InService member"
        time.sleep(0.5)


def group(cloud: str, name: str) -> dict:
    return autoscaling(cloud).describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]


def transitions(cloud: str, iid: str) -> list[str]:
    return [t["state"] for t in json.load(urllib.request.urlopen(f"{cloud}/_localcloud/transitions"))
            if t["instance_id"] == iid]


def assert_back_in_service(cloud: str, name: str, iid: str) -> None:
    """Back InService, the desired capacity as before, the same instance and no other: never replaced."""
    time.sleep(4)   # past the fast profile's asg_grace (3 s): a replacement would show by now
    g = group(cloud, name)
    assert g["DesiredCapacity"] == 1
    assert [(i["InstanceId"], i["LifecycleState"]) for i in g["Instances"]] == [(iid, "InService")]
    assert not {"shutting-down", "terminated"} & set(transitions(cloud, iid)), "the group replaced the target"


def test_an_in_service_member_is_rescued_with_standby_and_returns_to_service(ec2, cloud, rescuer, tmp_path):
    name, iid, _ = member(ec2, cloud, tmp_path)
    root = root_volume_of(ec2, iid)
    new = tmp_path / "new"
    plan = rescuer.run("plan", iid, "--standby", "--generate-key", str(tmp_path / "p"))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert f"first to Standby in Auto Scaling group {name}" in plan.stdout, plan.stdout
    key = "AKIDSTANDBYCHECK"
    out = rescuer.run("reset", iid, "--standby", "--generate-key", str(new), "--yes", "--verify", "none",
                      AWS_ACCESS_KEY_ID=key)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "stopped" in transitions(cloud, iid), "the rescue stopped the target (in Standby)"
    calls = {f"{c['service']}:{c['action']}" for c in json.load(urllib.request.urlopen(f"{cloud}/_localcloud/calls"))
             if c.get("access_key_id") == key and c["service"] == "autoscaling"}
    assert calls == {"autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeAutoScalingGroups",
                     "autoscaling:EnterStandby", "autoscaling:ExitStandby"}
    assert calls <= policy_actions(), "deploy/iam-policy.json grants every Auto Scaling call --standby makes"
    assert_back_in_service(cloud, name, iid)
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), new)
    [run_id] = rescuer.run_ids()
    record = rescuer.record(run_id)
    down = datetime.fromisoformat(record["restartedAt"]) - datetime.fromisoformat(record["stoppedAt"])
    assert down.total_seconds() > 3, "stopped longer than asg_grace (3 s): InService, it would have been replaced"
    history = "\n".join(record["history"])
    entered, stop = history.index("✓ EnterStandby"), history.index(f"stop of {iid} requested")
    assert entered < stop < history.index("✓ ExitStandby")


@pytest.mark.parametrize("finish", ["rollback", "resume", "rollback-elsewhere"])
def test_a_sigkill_after_enter_standby_is_undone_or_finished(ec2, cloud, rescuer, tmp_path, finish):
    name, iid, lost = member(ec2, cloud, tmp_path)
    root = root_volume_of(ec2, iid)
    new = tmp_path / "new"
    out = rescuer.run("reset", iid, "--standby", "--generate-key", str(new), "--yes", "--verify", "none",
                      KEYRESCUE_TEST_KILL_AFTER="enterStandby")
    assert out.returncode == -signal.SIGKILL, out.stdout + out.stderr
    [run_id] = rescuer.run_ids()
    record = rescuer.record(run_id)
    assert record.get("enterStandbyRequestedAt") and not record.get("enterStandbyAcceptedAt")
    assert group(cloud, name)["Instances"][0]["LifecycleState"] in ("EnteringStandby", "Standby")
    tags = {t["Key"]: t["Value"] for t in describe(ec2, iid).get("Tags", [])}
    assert tags.get("keyrescue:standby-group") == name
    if finish == "rollback-elsewhere":   # no journal: the run and its group rebuilt from the tags
        done = Rescuer(rescuer.cloud, tmp_path / "other-workstation").run("rollback", run_id)
    else:
        done = rescuer.run(finish, run_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_back_in_service(cloud, name, iid)
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), new if finish == "resume" else lost)
