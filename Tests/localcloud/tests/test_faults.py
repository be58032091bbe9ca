"""Faults fire as asked and only as asked; the call log names every action and its caller."""
from __future__ import annotations

import json
import urllib.request

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError, ConnectionClosedError

from conftest import client, launch, state_of, wait_states

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def control(endpoint, what, payload=None, method=None):
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(f"{endpoint}/_localcloud/{what}", data=data, method=method or ("POST" if data else "GET"))
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


@pytest.fixture
def ec2_once(endpoint):
    control(endpoint, "reset", {})
    import boto3
    return boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDFAULTS",
                        aws_secret_access_key="x", config=NO_RETRIES)


@pytest.mark.parametrize("kind,code,status", [("throttle", "RequestLimitExceeded", 503),
                                              ("500", "InternalError", 500), ("503", "Unavailable", 503)])
def test_error_faults_fire_count_times_then_stop(endpoint, ec2_once, kind, code, status):
    control(endpoint, "faults", {"action": "DescribeInstances", "kind": kind, "count": 2})
    for _ in range(2):
        with pytest.raises(ClientError) as info:
            ec2_once.describe_instances()
        assert info.value.response["Error"]["Code"] == code
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    ec2_once.describe_instances()
    ec2_once.describe_volumes()   # another action was never affected


def test_throttle_of_ssm_is_a_throttling_exception(endpoint):
    control(endpoint, "reset", {})
    control(endpoint, "faults", {"action": "GetParameter", "kind": "throttle", "count": 1})
    import boto3
    ssm = boto3.client("ssm", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDSSM",
                       aws_secret_access_key="x", config=NO_RETRIES)
    with pytest.raises(ClientError) as info:
        ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
    assert info.value.response["Error"]["Code"] == "ThrottlingException"


def test_drop_closes_the_connection(endpoint, ec2_once):
    control(endpoint, "faults", {"action": "DescribeVpcs", "kind": "drop", "count": 1})
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        ec2_once.describe_vpcs()
    assert ec2_once.describe_vpcs()["Vpcs"]


def test_stall_holds_a_transition_until_cleared(endpoint, ec2, al2023):
    control(endpoint, "reset", {})
    iid = launch(ec2, al2023)
    wait_states(lambda: state_of(ec2, iid), "running")
    control(endpoint, "faults", {"action": "StopInstances", "kind": "stall", "count": 1})
    ec2.stop_instances(InstanceIds=[iid])
    import time
    time.sleep(4)   # the fast profile's stop is 1.5 s: it would be stopped by now
    assert state_of(ec2, iid) == "stopping"
    control(endpoint, "faults", method="DELETE")
    wait_states(lambda: state_of(ec2, iid), "stopped")
    ec2.terminate_instances(InstanceIds=[iid])


def test_call_log_lists_actions_in_order_with_access_keys(endpoint):
    control(endpoint, "reset", {})
    client(endpoint, "ec2", key="AKIDFIRST").describe_vpcs()
    client(endpoint, "sts", key="AKIDSECOND").get_caller_identity()
    s3 = client(endpoint, "s3", key="AKIDTHIRD")
    s3.create_bucket(Bucket="calllog-bucket")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "calllog-bucket", "Key": "k"}, ExpiresIn=60)
    urllib.request.urlopen(urllib.request.Request(url, data=b"x", method="PUT")).read()
    # Only this test's keys: instances of earlier tests may still be calling the cloud.
    ours = {"AKIDFIRST", "AKIDSECOND", "AKIDTHIRD"}
    calls = [(c["action"], c["access_key_id"]) for c in control(endpoint, "calls") if c["access_key_id"] in ours]
    assert calls == [("DescribeVpcs", "AKIDFIRST"), ("GetCallerIdentity", "AKIDSECOND"),
                     ("CreateBucket", "AKIDTHIRD"), ("PutObject", "AKIDTHIRD")]


def test_new_account_has_internet_gateway_and_public_default_subnets(ec2):
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]
    assert len(igws) == 1
    routes = [r for t in ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
              for r in t["Routes"]]
    assert any(r.get("DestinationCidrBlock") == "0.0.0.0/0" and r.get("GatewayId") == igws[0]["InternetGatewayId"]
               for r in routes)
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    assert subnets and all(s["MapPublicIpOnLaunch"] and s["DefaultForAz"] for s in subnets)


def test_delay_answers_normally_once_the_delay_is_over(endpoint, ec2_once):
    control(endpoint, "faults", {"action": "DescribeSubnets", "kind": "delay", "seconds": 1, "count": 1})
    assert ec2_once.describe_subnets()["Subnets"]
    assert [f["fired"] for f in control(endpoint, "faults")] == [1]
    assert [c["status"] for c in control(endpoint, "calls") if c["action"] == "DescribeSubnets"] == [200]


def test_bad_fault_requests_are_refused(endpoint):
    import urllib.error
    with pytest.raises(urllib.error.HTTPError) as info:
        control(endpoint, "faults", {"action": "StopInstances", "kind": "explode"})
    assert info.value.code == 400
