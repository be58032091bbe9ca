"""The EC2 API rules' pure parts: tokens, hidden ids, tag specifications, error codes (no root)."""
from __future__ import annotations

import pytest

from localcloud.calls import Call, CallLog, error_code
from localcloud.consistency import Visibility
from localcloud.errors import EC2Error
from localcloud.faults import FaultBook
from localcloud.idempotency import IdempotencyBook, fingerprint
from localcloud.tagpolicy import check, tag_specifications


def call(action: str, **params: str) -> Call:
    return Call(service="ec2", action=action, access_key="AKID", region="us-east-1", params=params)


def test_a_token_is_judged_on_every_parameter_but_dry_run():
    assert fingerprint({"Action": "RunInstances", "ClientToken": "t", "DryRun": "false", "UserData": "x"}) == \
        fingerprint({"Action": "RunInstances", "ClientToken": "u", "UserData": "x"})
    book = IdempotencyBook()
    first = call("CreateVolume", ClientToken="t", Size="1", AvailabilityZone="us-east-1a")
    book.remember(first, b"<CreateVolumeResponse><requestId>r1</requestId><volumeId>vol-1</volumeId></CreateVolumeResponse>")
    again = book.replay(None, call("CreateVolume", ClientToken="t", Size="1", AvailabilityZone="us-east-1a"), str)
    assert again is not None and b"<volumeId>vol-1</volumeId>" in again and b"r1" not in again
    with pytest.raises(EC2Error) as info:
        book.replay(None, call("CreateVolume", ClientToken="t", Size="2", AvailabilityZone="us-east-1a"), str)
    assert info.value.code == "IdempotentParameterMismatch"
    other_region = Call("ec2", "CreateVolume", "AKID", "eu-west-1", {"ClientToken": "t", "Size": "2"})
    assert book.replay(None, other_region, str) is None   # tokens are per region
    assert book.replay(None, call("CreateVolume", ClientToken="t", Size="2", DryRun="true"), str) is None


def test_new_ids_are_hidden_from_the_calls_that_name_them():
    seen = Visibility()
    seen.created(call("RunInstances"), b"<instanceId>i-0abc</instanceId><instanceId>i-0def</instanceId>", 60)
    seen.created(call("CreateSecurityGroup"), b"<groupId>sg-0123</groupId>", 60)
    for hidden, code in ((call("DescribeInstances", **{"InstanceId.1": "i-0def"}), "InvalidInstanceID.NotFound"),
                         (call("RunInstances", **{"NetworkInterface.1.SecurityGroupId.1": "sg-0123"}),
                          "InvalidGroup.NotFound")):
        with pytest.raises(EC2Error) as info:
            seen.check(hidden)
        assert info.value.code == code
    seen.check(call("DescribeInstances"))                                  # no ids named
    seen.check(call("TerminateInstances", **{"InstanceId.1": "i-0abc"}))  # not a call this rule covers
    seen.created(call("CreateVolume"), b"<volumeId>vol-0aa</volumeId>", 0)   # settle 0: visible at once
    seen.check(call("DescribeVolumes", **{"VolumeId.1": "vol-0aa"}))


def test_tag_specifications_and_the_deny_untagged_fault():
    params = {"TagSpecification.1.ResourceType": "instance", "TagSpecification.1.Tag.1.Key": "owner",
              "TagSpecification.1.Tag.1.Value": "a", "TagSpecification.2.ResourceType": "volume",
              "TagSpecification.2.Tag.1.Key": "owner"}
    assert tag_specifications(params) == {"instance": {"owner": "a"}, "volume": {"owner": ""}}
    faults = FaultBook()
    faults.add({"action": "RunInstances", "kind": "deny-untagged", "tag": "owner", "count": 2})
    with pytest.raises(EC2Error) as info:
        check(faults, call("RunInstances", **params))   # no network-interface tag
    assert (info.value.code, info.value.status) == ("UnauthorizedOperation", 403)
    params.update({"TagSpecification.3.ResourceType": "network-interface", "TagSpecification.3.Tag.1.Key": "owner"})
    check(faults, call("RunInstances", **params))
    check(faults, call("RunInstances"))   # count 2: spent


def test_the_call_log_keeps_error_codes_tokens_and_dry_runs():
    assert error_code(b"<Response><Errors><Error><Code>DryRunOperation</Code>") == "DryRunOperation"
    assert error_code(b'{"__type": "com.amazonaws.kms#NotFoundException", "message": "x"}') == "NotFoundException"
    assert error_code(b"<ok/>") is None
    log = CallLog()
    entry = log.record(call("RunInstances", ClientToken="t", DryRun="true"))
    entry["status"] = 412
    assert log.answered(entry, [b"<Code>DryRunOperation</Code>"]) == [b"<Code>DryRunOperation</Code>"]
    assert (entry["client_token"], entry["dry_run"], entry["error_code"]) == ("t", True, "DryRunOperation")
