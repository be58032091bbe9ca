"""Rule 1 (ClientToken idempotency) and rule 16 (the call log says what the client was told)."""
from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from test_faults import control


def test_run_instances_with_a_used_token(endpoint, ec2, al2023):
    token = f"idem-{uuid.uuid4()}"
    first = ec2.run_instances(ImageId=al2023, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                              ClientToken=token, UserData="#!/bin/sh\necho one\n")["Instances"][0]["InstanceId"]
    again = ec2.run_instances(ImageId=al2023, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                              ClientToken=token, UserData="#!/bin/sh\necho one\n")["Instances"][0]["InstanceId"]
    assert again == first
    with pytest.raises(ClientError) as info:   # a resume that changed its user-data
        ec2.run_instances(ImageId=al2023, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                          ClientToken=token, UserData="#!/bin/sh\necho two\n")
    assert info.value.response["Error"]["Code"] == "IdempotentParameterMismatch"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    launched = ec2.describe_instances()["Reservations"]   # (moto has no client-token filter)
    assert [i["InstanceId"] for r in launched for i in r["Instances"] if i.get("ClientToken") == token] == [first]
    entry = [e for e in control(endpoint, "calls") if e.get("client_token") == token][-1]
    assert (entry["action"], entry["status"], entry["error_code"], entry["dry_run"]) == \
        ("RunInstances", 400, "IdempotentParameterMismatch", False)
    ec2.terminate_instances(InstanceIds=[first])


def test_create_volume_with_a_used_token(ec2):
    token = f"idem-{uuid.uuid4()}"
    first = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, ClientToken=token)
    again = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, ClientToken=token)
    assert (again["VolumeId"], again["Size"]) == (first["VolumeId"], 1)
    with pytest.raises(ClientError) as info:
        ec2.create_volume(AvailabilityZone="us-east-1a", Size=2, ClientToken=token)
    assert info.value.response["Error"]["Code"] == "IdempotentParameterMismatch"
    sizes = [v["Size"] for v in ec2.describe_volumes()["Volumes"] if v["VolumeId"] == first["VolumeId"]]
    assert sizes == [1]
    other = ec2.create_volume(AvailabilityZone="us-east-1a", Size=2, ClientToken=token + "-b")
    assert other["VolumeId"] != first["VolumeId"]
    for vid in (first["VolumeId"], other["VolumeId"]):
        ec2.delete_volume(VolumeId=vid)


def test_call_log_notes_dry_runs_and_error_codes(endpoint, ec2, al2023):
    control(endpoint, "reset", {})
    with pytest.raises(ClientError) as info:
        ec2.run_instances(ImageId=al2023, MinCount=1, MaxCount=1, InstanceType="t3.micro", DryRun=True,
                          ClientToken="dry-token")
    assert info.value.response["Error"]["Code"] == "DryRunOperation"
    with pytest.raises(ClientError):
        ec2.describe_instances(InstanceIds=["i-0123456789abcdef0"])
    ec2.describe_vpcs()
    log = [(e["action"], e["dry_run"], e["client_token"], e["error_code"]) for e in control(endpoint, "calls")]
    assert log == [("RunInstances", True, "dry-token", "DryRunOperation"),
                   ("DescribeInstances", False, None, "InvalidInstanceID.NotFound"),
                   ("DescribeVpcs", False, None, None)]
