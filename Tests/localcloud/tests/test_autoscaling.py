"""Auto Scaling groups: their instances run like any other, and a stopped InService member is
terminated and replaced after the profile's grace (fast: 3 s), unless it is in Standby or the
group's HealthCheck or ReplaceUnhealthy process is suspended."""
from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.request
import uuid

import pytest

from conftest import client, state_of, wait_states
from localcloud.autoscaling import judge

GRACE = 3.0   # the fast profile's asg_grace


NONE: frozenset[str] = frozenset()


@pytest.mark.parametrize("lifecycle, state, health, suspended, failing_for, expected", [
    ("InService", "running", "Healthy", NONE, 0, (False, "Healthy", False)),
    ("InService", "stopped", "Healthy", NONE, 0, (True, "Healthy", False)),          # the grace runs
    ("InService", "stopping", "Healthy", NONE, GRACE, (True, "Unhealthy", True)),
    ("InService", "terminated", "Healthy", NONE, GRACE, (True, "Unhealthy", True)),
    ("InService", "pending", "Healthy", NONE, GRACE, (False, "Healthy", False)),     # a launch under way
    ("Standby", "stopped", "Healthy", NONE, GRACE, (False, "Healthy", False)),
    ("InService", "stopped", "Healthy", frozenset({"HealthCheck"}), GRACE, (False, "Healthy", False)),
    ("InService", "stopped", "Healthy", frozenset({"ReplaceUnhealthy"}), GRACE, (True, "Unhealthy", False)),
    ("InService", "running", "Unhealthy", NONE, 0, (False, "Unhealthy", True)),      # SetInstanceHealth
])
def test_health_check_judges_a_member(lifecycle, state, health, suspended, failing_for, expected):
    assert judge(lifecycle, state, health, suspended, failing_for, GRACE) == expected


@pytest.fixture(scope="module")
def template(endpoint, al2023, tmp_path_factory):
    ec2 = client(endpoint, "ec2")
    keyfile = tmp_path_factory.mktemp("asg") / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "asg@localcloud", "-f", str(keyfile)],
                   check=True)
    name = f"asg-{uuid.uuid4().hex[:8]}"
    ec2.import_key_pair(KeyName=name, PublicKeyMaterial=(keyfile.parent / "k.pub").read_bytes())
    script = "#!/bin/sh\necho asg-user-data-ran\ncat /home/ec2-user/.ssh/authorized_keys\n"
    ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={
        "ImageId": al2023, "InstanceType": "t3.micro", "KeyName": name,
        "UserData": base64.b64encode(script.encode()).decode()})
    return name


@pytest.fixture
def autoscaling(endpoint):
    return client(endpoint, "autoscaling")


def new_group(autoscaling, template: str, size: int) -> str:
    name = f"grp-{uuid.uuid4().hex[:8]}"
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name, LaunchTemplate={"LaunchTemplateName": template},
        MinSize=0, MaxSize=size + 1, DesiredCapacity=size, AvailabilityZones=["us-east-1a"])
    return name


def members(autoscaling, group: str) -> dict[str, dict]:
    found = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group])["AutoScalingGroups"][0]
    return {i["InstanceId"]: i for i in found["Instances"]}


def wait_for(check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"condition never held: {check.__doc__ or check}")


def test_group_instances_run_with_key_pair_user_data_and_ssh(endpoint, ec2, autoscaling, template):
    group = new_group(autoscaling, template, 1)
    (iid,) = members(autoscaling, group)
    wait_states(lambda: state_of(ec2, iid), "running")
    text = wait_for(lambda: ec2.get_console_output(InstanceId=iid).get("Output", "").find("asg@localcloud") >= 0
                    and ec2.get_console_output(InstanceId=iid)["Output"])
    assert "asg-user-data-ran" in text

    def ssh_endpoint():
        runtimes = json.loads(urllib.request.urlopen(f"{endpoint}/_localcloud/instances").read())
        return next((r["ssh"] for r in runtimes if r["instance_id"] == iid and r["ssh"]), None)

    host, port = wait_for(ssh_endpoint)
    assert host == "127.0.0.1" and port > 0
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName=group, ForceDelete=True)
    wait_states(lambda: state_of(ec2, iid), "terminated")
    assert ssh_endpoint() is None, "the group's terminate ends the instance's runtime"


def test_stopped_member_is_replaced_unless_standby_or_suspended(ec2, autoscaling, template):
    replaced = new_group(autoscaling, template, 2)
    no_replace = new_group(autoscaling, template, 1)
    no_check = new_group(autoscaling, template, 1)
    by_hand = new_group(autoscaling, template, 1)
    autoscaling.suspend_processes(AutoScalingGroupName=no_replace, ScalingProcesses=["ReplaceUnhealthy"])
    autoscaling.suspend_processes(AutoScalingGroupName=no_check, ScalingProcesses=["HealthCheck"])
    in_service, standby = members(autoscaling, replaced)
    (unreplaced,) = members(autoscaling, no_replace)
    (unchecked,) = members(autoscaling, no_check)
    (terminated,) = members(autoscaling, by_hand)
    everyone = [in_service, standby, unreplaced, unchecked, terminated]
    for iid in everyone:
        wait_states(lambda iid=iid: state_of(ec2, iid), "running")
    autoscaling.enter_standby(AutoScalingGroupName=replaced, InstanceIds=[standby],
                              ShouldDecrementDesiredCapacity=True)
    ec2.stop_instances(InstanceIds=everyone[:-1])
    ec2.terminate_instances(InstanceIds=[terminated])   # through EC2, behind the group's back

    # The InService member goes and a new one takes its place, running like the first.
    wait_states(lambda: state_of(ec2, in_service), "terminated", timeout=GRACE + 20)
    newcomer = wait_for(lambda: next((i for i in members(autoscaling, replaced) if i not in everyone), None))
    wait_states(lambda: state_of(ec2, newcomer), "running")

    # By then the others have been stopped for longer than the grace: still there, still stopped.
    now = members(autoscaling, replaced)
    assert now[standby]["LifecycleState"] == "Standby" and state_of(ec2, standby) == "stopped"
    assert in_service not in now
    assert set(members(autoscaling, no_replace)) == {unreplaced}
    assert members(autoscaling, no_replace)[unreplaced]["HealthStatus"].lower() == "unhealthy"
    assert state_of(ec2, unreplaced) == "stopped"
    assert set(members(autoscaling, no_check)) == {unchecked}
    assert members(autoscaling, no_check)[unchecked]["HealthStatus"].lower() == "healthy"
    wait_for(lambda: set(members(autoscaling, by_hand)) - {terminated})
    assert terminated not in members(autoscaling, by_hand)

    # Resuming ReplaceUnhealthy replaces the member already marked unhealthy.
    autoscaling.resume_processes(AutoScalingGroupName=no_replace, ScalingProcesses=["ReplaceUnhealthy"])
    wait_states(lambda: state_of(ec2, unreplaced), "terminated", timeout=20)
    wait_for(lambda: set(members(autoscaling, no_replace)) - {unreplaced})
    for group in (replaced, no_replace, no_check, by_hand):
        autoscaling.delete_auto_scaling_group(AutoScalingGroupName=group, ForceDelete=True)
