"""Issue 12, rules 7, 8 and 12: targets a rescue would harm are refused before anything changes
(exit 3), a key policy denying kms:CreateGrant stops the run with exit 5 naming the key, and an
organisation's tag rule is met with --tag."""
from __future__ import annotations

import base64
import json
import time
import urllib.request

import boto3
import pytest

from conftest import image, wait_state

PERSISTENT_STOP = {"MarketType": "spot", "SpotOptions": {"SpotInstanceType": "persistent",
                                                         "InstanceInterruptionBehavior": "stop"}}


def launch(ec2, **extra) -> str:
    iid = ec2.run_instances(ImageId=image(ec2, "debian-12-amd64-2*"), MinCount=1, MaxCount=1,
                            **{"InstanceType": "t3.micro", **extra})["Instances"][0]["InstanceId"]
    wait_state(ec2, iid, "running")
    return iid


def post(cloud: str, path: str, body: dict) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{cloud}/_localcloud/{path}", data=json.dumps(body).encode(),
                                                  method="POST"))


def transitions(cloud: str, iid: str) -> list[str]:
    return [t["state"] for t in json.load(urllib.request.urlopen(f"{cloud}/_localcloud/transitions"))
            if t["instance_id"] == iid]


def assert_nothing_changed(ec2, cloud, rescuer, iid: str, states: list[str]) -> None:
    time.sleep(1)
    assert transitions(cloud, iid) == states, "the target changed state"
    root = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"][0]
    snaps = ec2.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [root["Ebs"]["VolumeId"]]}])["Snapshots"]
    assert snaps == [] and rescuer.run_ids() == []


def hibernated(ec2) -> str:
    iid = launch(ec2, HibernationOptions={"Configured": True})
    ec2.stop_instances(InstanceIds=[iid], Hibernate=True)
    wait_state(ec2, iid, "stopped")
    return iid


def spot_interrupted(ec2, cloud) -> str:
    iid = launch(ec2, InstanceMarketOptions=PERSISTENT_STOP)
    post(cloud, "spot/interrupt", {"instance_id": iid, "region": "us-east-1"})
    wait_state(ec2, iid, "stopped")
    return iid


def auto_scaling_member(ec2, cloud) -> str:
    asg = boto3.client("autoscaling", endpoint_url=cloud, region_name="us-east-1",
                       aws_access_key_id="AKIDE2ETEST", aws_secret_access_key="secret")
    name = f"kr-web-{time.monotonic_ns()}"
    ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={
        "ImageId": image(ec2, "debian-12-amd64-2*"), "InstanceType": "t3.micro"})
    asg.create_auto_scaling_group(AutoScalingGroupName=name, LaunchTemplate={"LaunchTemplateName": name},
                                  MinSize=0, MaxSize=2, DesiredCapacity=1, AvailabilityZones=["us-east-1a"])
    deadline = time.monotonic() + 120
    while True:
        members = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["Instances"]
        if members and members[0]["LifecycleState"] == "InService":
            iid = members[0]["InstanceId"]
            wait_state(ec2, iid, "running")
            return iid
        assert time.monotonic() < deadline, "the group never had an InService member"
        time.sleep(0.5)


CASES = {
    "m5d": ("instance-store volumes", "--allow-instance-store-loss", lambda ec2, cloud: launch(ec2, InstanceType="m5d.large")),
    "hibernated": ("stopped by hibernation", "start it once", lambda ec2, cloud: hibernated(ec2)),
    "spot": ("stopped by an interruption", "cancel the Spot request", spot_interrupted),
    "asg": ("InService in Auto Scaling group", "--standby", auto_scaling_member),
}


@pytest.mark.parametrize("case", CASES)
def test_a_target_the_rescue_would_harm_is_refused_with_nothing_changed(ec2, cloud, rescuer, tmp_path, case):
    says, instead, make = CASES[case]
    iid = make(ec2, cloud)
    states = transitions(cloud, iid)
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "n"), "--yes", "--verify", "none")
    assert out.returncode == 3, out.stdout + out.stderr
    assert says in out.stdout and instead in out.stdout, out.stdout
    assert_nothing_changed(ec2, cloud, rescuer, iid, states)


def test_a_key_policy_denying_create_grant_stops_the_run_with_exit_5(ec2, cloud, rescuer, tmp_path):
    kms = boto3.client("kms", endpoint_url=cloud, region_name="us-east-1",
                       aws_access_key_id="AKIDE2ETEST", aws_secret_access_key="secret")
    root = "arn:aws:iam::123456789012:root"
    key = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}]}))["KeyMetadata"]
    iid = launch(ec2, BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {
        "Encrypted": True, "KmsKeyId": key["KeyId"], "DeleteOnTermination": True}}])
    allowed = rescuer.run("plan", iid, "--generate-key", str(tmp_path / "p"))
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr   # the DryRun grant passes: KMS allows it
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:CreateGrant", "Resource": "*"}]}))
    states = transitions(cloud, iid)
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "n"), "--yes", "--verify", "none")
    assert out.returncode == 5, out.stdout + out.stderr
    assert "kms:CreateGrant" in out.stderr and key["Arn"] in out.stderr
    assert_nothing_changed(ec2, cloud, rescuer, iid, states)


def test_an_organisation_tag_rule_is_named_and_met_with_tag(ec2, cloud, rescuer, tmp_path):
    iid = launch(ec2)
    post(cloud, "faults", {"action": "RunInstances", "kind": "deny-untagged", "tag": "CostCenter", "count": 20})
    try:
        denied = rescuer.run("plan", iid, "--generate-key", str(tmp_path / "d"))
        assert denied.returncode == 5, denied.stdout + denied.stderr
        assert "ec2:RunInstances (UnauthorizedOperation)" in denied.stderr
        assert "--tag KEY=VALUE" in denied.stderr
        allowed = rescuer.run("plan", iid, "--generate-key", str(tmp_path / "a"), "--tag", "CostCenter=42")
        assert allowed.returncode == 0, allowed.stdout + allowed.stderr
        assert "tags on everything created: CostCenter=42" in allowed.stdout
        # The whole rescue under the same rule for every resource type it creates: each creating call
        # is refused unless it carries the tag, so passing means everything was tagged at creation.
        for action in ("CreateSnapshot", "CreateSecurityGroup"):
            post(cloud, "faults", {"action": action, "kind": "deny-untagged", "tag": "CostCenter", "count": 20})
        done = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "r"), "--tag", "CostCenter=42", "--yes",
                           "--verify", "none")
        assert done.returncode == 0, done.stdout + done.stderr
        tagged = {"Name": "tag:CostCenter", "Values": ["42"]}
        assert ec2.describe_snapshots(OwnerIds=["self"], Filters=[tagged])["Snapshots"]
        hosts = [i for r in ec2.describe_instances(Filters=[tagged])["Reservations"] for i in r["Instances"]]
        assert hosts and all(i["InstanceId"] != iid for i in hosts)
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{cloud}/_localcloud/faults", method="DELETE"))
