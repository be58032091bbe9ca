"""The cloud's pure parts: request parsing, device naming, user-data rules, profiles (no root)."""
from __future__ import annotations

import base64

import pytest

from localcloud import devices, ec2rules
from localcloud.calls import parse_call
from localcloud.errors import EC2Error
from localcloud.profiles import FAST, REALISTIC, profile_named


def test_access_key_comes_from_the_authorization_header():
    environ = {"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/eu-west-1/ec2/aws4_request, "
                                     "SignedHeaders=host, Signature=abc",
               "CONTENT_TYPE": "application/x-www-form-urlencoded", "REQUEST_METHOD": "POST"}
    call = parse_call(environ, b"Action=StopInstances&Version=2016-11-15&InstanceId.1=i-1")
    assert (call.service, call.action, call.access_key, call.region) == ("ec2", "StopInstances", "AKIDEXAMPLE", "eu-west-1")


def test_access_key_comes_from_a_presigned_url():
    environ = {"REQUEST_METHOD": "PUT", "PATH_INFO": "/bucket/report.json",
               "QUERY_STRING": "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDPRESIGN%2F20261125%2Fus-east-1%2Fs3%2Faws4_request"}
    call = parse_call(environ, b"")
    assert (call.service, call.action, call.access_key) == ("s3", "PutObject", "AKIDPRESIGN")


def test_json_services_are_named_by_their_target():
    environ = {"HTTP_X_AMZ_TARGET": "AmazonSSM.GetParameter", "REQUEST_METHOD": "POST",
               "CONTENT_TYPE": "application/x-amz-json-1.1"}
    call = parse_call(environ, b"{}")
    assert (call.service, call.action, call.access_key) == ("ssm", "GetParameter", None)


def test_nitro_names_carry_the_volume_id_as_udev_does():
    names = devices.nitro_names(1, "vol-0abc123", "/dev/sdf")
    assert names.disk == "nvme1n1"
    assert ("disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc123", "../../nvme1n1") in names.links
    assert devices.partition_name(names, 1) == "nvme1n1p1"


@pytest.mark.parametrize("requested,disk", [("/dev/sdf", "xvdf"), ("/dev/xvdg", "xvdg"), ("/dev/sda1", "xvda")])
def test_xen_names(requested, disk):
    assert devices.xen_names(requested).disk == disk


@pytest.mark.parametrize("instance_type,nitro", [("t3.micro", True), ("t2.micro", False), ("m1.small", False),
                                                 ("c7i.large", True)])
def test_hypervisor_by_family(instance_type, nitro):
    assert devices.is_nitro(instance_type) is nitro


def test_user_data_limit_is_16384_raw_bytes():
    assert ec2rules.decode_user_data(base64.b64encode(b"x" * 16384).decode()) == b"x" * 16384
    with pytest.raises(EC2Error) as info:
        ec2rules.decode_user_data(base64.b64encode(b"x" * 16385).decode())
    assert info.value.code == "InvalidParameterValue"
    with pytest.raises(EC2Error) as info:
        ec2rules.decode_user_data("not base64!")
    assert info.value.code == "InvalidUserData.Malformed"


@pytest.mark.parametrize("device", ["/dev/sdf", "/dev/xvdf", "/dev/sda1", "/dev/xvdba"])
def test_valid_device_names(device):
    ec2rules.check_device_name(device)


def test_fast_profile_keeps_every_transition_visible_and_shorter():
    for field in ("run", "start", "stop", "terminate", "attach", "detach", "snapshot"):
        assert 1.0 <= getattr(FAST, field) <= getattr(REALISTIC, field)
    with pytest.raises(ValueError):
        profile_named("instant")


def test_request_limits_follow_token_buckets_per_action():
    from localcloud.ratelimit import RequestLimits
    now = [0.0]
    limits = RequestLimits(clock=lambda: now[0])
    assert sum(limits.admit("us-east-1", "AttachVolume") for _ in range(60)) == 50     # mutating: 50 tokens
    assert sum(limits.admit("us-east-1", "DescribeVolumes") for _ in range(150)) == 100  # its own bucket
    assert limits.admit("eu-west-1", "AttachVolume")                                   # per region
    now[0] = 1.0
    assert sum(limits.admit("us-east-1", "AttachVolume") for _ in range(10)) == 5      # refills 5 a second
    assert sum(limits.admit("us-east-1", "DescribeVolumes") for _ in range(30)) == 20   # 20 a second
    now[0] = 100.0
    assert sum(limits.admit("us-east-1", "AttachVolume") for _ in range(60)) == 50     # never above capacity


def test_only_the_realistic_profile_throttles():
    assert REALISTIC.throttles and not FAST.throttles
