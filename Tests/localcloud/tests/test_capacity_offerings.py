"""Rule 12: capacity and limit faults (never on a DryRun) and the instance types a zone offers."""
from __future__ import annotations

import json
import os
import subprocess
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import launch, state_of, wait_states
from test_faults import control, ec2_once  # noqa: F401 (a fixture)


@pytest.mark.parametrize("kind,code", [("capacity-host", "InsufficientCapacityOnHost"),
                                       ("instance-limit", "InstanceLimitExceeded"),
                                       ("vcpu-limit", "VcpuLimitExceeded")])
def test_launch_errors_fire_on_real_calls_only(endpoint, ec2_once, al2023, kind, code):
    control(endpoint, "faults", {"action": "RunInstances", "kind": kind})
    with pytest.raises(ClientError) as info:
        launch(ec2_once, al2023, DryRun=True)
    assert info.value.response["Error"]["Code"] == "DryRunOperation"
    with pytest.raises(ClientError) as info:
        launch(ec2_once, al2023)
    assert info.value.response["Error"]["Code"] == code
    assert control(endpoint, "calls")[-1]["error_code"] == code


def test_start_instances_can_hit_a_limit(endpoint, ec2, al2023):
    iid = launch(ec2, al2023)
    wait_states(lambda: state_of(ec2, iid), "running")
    ec2.stop_instances(InstanceIds=[iid])
    wait_states(lambda: state_of(ec2, iid), "stopped")
    control(endpoint, "faults", {"action": "StartInstances", "kind": "vcpu-limit"})
    with pytest.raises(ClientError) as info:
        ec2.start_instances(InstanceIds=[iid])
    assert info.value.response["Error"]["Code"] == "VcpuLimitExceeded"
    assert state_of(ec2, iid) == "stopped"
    ec2.terminate_instances(InstanceIds=[iid])


def aws(endpoint, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDCLI", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1")
    out = subprocess.run(["aws", "--endpoint-url", endpoint, "--output", "json", "ec2", *args],
                         capture_output=True, text=True, env=env, timeout=60)
    return out.returncode, out.stdout, out.stderr


def test_a_zone_offers_only_the_types_set(endpoint, ec2, al2023):
    control(endpoint, "offerings", {"region": "us-east-1", "zone": "us-east-1b", "types": ["m5.large"]})
    try:
        rc, out, _ = aws(endpoint, "describe-instance-type-offerings", "--location-type", "availability-zone",
                         "--filters", "Name=location,Values=us-east-1b")
        assert rc == 0 and sorted(o["InstanceType"] for o in json.loads(out)["InstanceTypeOfferings"]) == ["m5.large"]
        rc, _, err = aws(endpoint, "run-instances", "--image-id", al2023, "--instance-type", "t3.micro",
                         "--placement", "AvailabilityZone=us-east-1b")
        assert rc != 0 and "(Unsupported)" in err and "us-east-1a" in err   # names a zone that has it
        iid = launch(ec2, al2023, InstanceType="m5.large", Placement={"AvailabilityZone": "us-east-1b"})
        ec2.terminate_instances(InstanceIds=[iid])
    finally:
        req = urllib.request.Request(f"{endpoint}/_localcloud/offerings", method="DELETE")
        urllib.request.urlopen(req).read()
    offered = ec2.describe_instance_type_offerings(
        LocationType="availability-zone", Filters=[{"Name": "location", "Values": ["us-east-1b"]},
                                                   {"Name": "instance-type", "Values": ["t3.micro"]}])
    assert [o["InstanceType"] for o in offered["InstanceTypeOfferings"]] == ["t3.micro"]


@pytest.mark.parametrize("spec,says", [({"zone": "us-east-1z", "types": ["t3.micro"]}, "zone must be one of"),
                                       ({"zone": "us-east-1a", "types": []}, "types must be a non-empty list")])
def test_bad_offerings_are_refused(endpoint, spec, says):
    import urllib.error
    req = urllib.request.Request(f"{endpoint}/_localcloud/offerings", data=json.dumps(spec).encode(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req)
    assert info.value.code == 400 and says in json.loads(info.value.read())["error"]
