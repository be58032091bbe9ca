"""Customer-managed KMS keys: EC2 uses a volume encrypted with one only for a caller its key
policy lets call kms:CreateGrant; KMS CreateGrant answers DryRun and denials as KMS does."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from conftest import client, launch, state_of, wait_states
from localcloud.kms_policy import Caller, Request, allows, decide

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ADMIN = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}
DENY_GRANTS = {"Effect": "Deny", "Principal": "*", "Action": "kms:CreateGrant", "Resource": "*"}


def policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def error_code(call) -> str:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"]


@pytest.fixture
def kms(endpoint):
    return client(endpoint, "kms")


def new_key(kms, *statements) -> str:
    return kms.create_key(Policy=policy(*(statements or (ADMIN,))))["KeyMetadata"]["KeyId"]


def set_policy(kms, key: str, *statements) -> None:
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=policy(*statements))


def encrypted_root(key: str) -> list[dict]:
    return [{"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True, "KmsKeyId": key, "DeleteOnTermination": True}}]


def instance(ec2, iid: str) -> dict:
    return ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]


# the key policy, as a pure function ---------------------------------------------------
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k"
ALICE = Caller(ACCOUNT, frozenset({f"arn:aws:iam::{ACCOUNT}:user/alice"}))
BOB = Caller(ACCOUNT, frozenset({f"arn:aws:iam::{ACCOUNT}:user/bob"}))
VIA_EC2 = {"kms:grantisforawsresource": "true", "kms:viaservice": "ec2.us-east-1.amazonaws.com"}


@pytest.mark.parametrize("statements, caller, context, allowed", [
    ([ADMIN], BOB, {}, True),                                             # the default key policy
    ([ADMIN, DENY_GRANTS], BOB, {}, False),                               # an explicit Deny wins
    ([], BOB, {}, False),                                                 # nothing allows
    ([{**ADMIN, "Action": "kms:Decrypt"}], BOB, {}, False),               # another action
    ([{**ADMIN, "Action": ["kms:Create*"]}], BOB, {}, True),              # wildcards
    ([{**ADMIN, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"}}], ALICE, {}, True),
    ([{**ADMIN, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"}}], BOB, {}, False),
    ([{**ADMIN, "Principal": {"AWS": "arn:aws:iam::999999999999:root"}}], BOB, {}, False),
    ([{**ADMIN, "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}], BOB, VIA_EC2, True),
    ([{**ADMIN, "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}], BOB,
     {"kms:grantisforawsresource": "false"}, False),
    ([{**ADMIN, "Condition": {"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}}], BOB, VIA_EC2, True),
    ([{**ADMIN, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}], BOB, VIA_EC2, False),  # not evaluated
])
def test_key_policy_decides_create_grant(statements, caller, context, allowed):
    assert allows(policy(*statements), Request("kms:CreateGrant", KEY, caller, context)) is allowed


def test_decision_tells_an_explicit_deny_from_a_missing_allow():
    request = Request("kms:CreateGrant", KEY, BOB)
    assert decide(policy(ADMIN, DENY_GRANTS), request) == "explicit-deny"
    assert decide(policy({**ADMIN, "Action": "kms:Decrypt"}), request) == "implicit-deny"


def test_unreadable_policy_allows_nothing():
    assert not allows("{not json", Request("kms:CreateGrant", KEY, BOB))


# through the API ------------------------------------------------------------------------
def test_encrypted_root_boots_from_the_ami_and_a_refused_start_ends_stopped(ec2, kms, al2023):
    key = new_key(kms)
    iid = launch(ec2, al2023, BlockDeviceMappings=encrypted_root(key),
                 UserData="#!/bin/sh\necho booted-from-ami > /dev/console\n")
    wait_states(lambda: state_of(ec2, iid), "running")
    root = instance(ec2, iid)["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    volume = ec2.describe_volumes(VolumeIds=[root])["Volumes"][0]
    assert volume["Encrypted"] and volume["KmsKeyId"].endswith(key)
    assert volume["SnapshotId"], "the encrypted root is made from the AMI's snapshot"
    wait_states(lambda: "booted-from-ami" in ec2.get_console_output(InstanceId=iid).get("Output", ""), True)

    ec2.stop_instances(InstanceIds=[iid])
    wait_states(lambda: state_of(ec2, iid), "stopped")
    set_policy(kms, key, ADMIN, DENY_GRANTS)
    ec2.start_instances(InstanceIds=[iid])
    seen = wait_states(lambda: state_of(ec2, iid), "stopped")
    assert seen == ["pending", "stopped"]
    assert instance(ec2, iid)["StateReason"] == {"Code": "Client.InternalError",
                                                 "Message": "Client.InternalError: Client error on launch"}

    set_policy(kms, key, ADMIN)   # the key's owner lets the caller in again: the start works
    ec2.start_instances(InstanceIds=[iid])
    wait_states(lambda: state_of(ec2, iid), "running")
    ec2.terminate_instances(InstanceIds=[iid])


def test_refused_launch_ends_terminated(ec2, kms, al2023):
    key = new_key(kms, ADMIN, DENY_GRANTS)
    iid = launch(ec2, al2023, BlockDeviceMappings=encrypted_root(key))
    seen = wait_states(lambda: state_of(ec2, iid), "terminated")
    assert seen == ["pending", "terminated"]
    assert instance(ec2, iid)["StateReason"]["Code"] == "Client.InternalError"


def test_refused_attach_answers_customer_key_has_been_revoked(ec2, kms, al2023):
    key = new_key(kms)
    iid = launch(ec2, al2023)
    wait_states(lambda: state_of(ec2, iid), "running")
    # CreateVolume is checked too: the volume is made while the key allows grants, then it turns.
    vol = ec2.create_volume(Size=1, AvailabilityZone=instance(ec2, iid)["Placement"]["AvailabilityZone"],
                            Encrypted=True, KmsKeyId=key)["VolumeId"]
    set_policy(kms, key, ADMIN, DENY_GRANTS)
    assert error_code(lambda: ec2.attach_volume(VolumeId=vol, InstanceId=iid, Device="/dev/sdf")) \
        == "CustomerKeyHasBeenRevoked"
    assert ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["State"] == "available"

    # A key policy allowing grants only when EC2 asks for them (GrantIsForAWSResource) lets the
    # attach through but refuses the same caller's own CreateGrant.
    set_policy(kms, key, {**ADMIN, "Action": "kms:CreateGrant",
                          "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
               {**ADMIN, "Action": ["kms:DescribeKey", "kms:PutKeyPolicy", "kms:GetKeyPolicy"]})
    ec2.attach_volume(VolumeId=vol, InstanceId=iid, Device="/dev/sdf")
    wait_states(lambda: ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["State"], "in-use")
    assert error_code(lambda: kms.create_grant(KeyId=key, GranteePrincipal=ROOT, Operations=["Decrypt"],
                                               DryRun=True)) == "AccessDeniedException"
    ec2.terminate_instances(InstanceIds=[iid])


def test_volumes_from_an_encrypted_snapshot_keep_its_key_and_a_refused_one_vanishes(ec2, kms):
    key = new_key(kms)
    source = ec2.create_volume(Size=1, AvailabilityZone="us-east-1a", Encrypted=True, KmsKeyId=key)["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=source)["SnapshotId"]
    assert ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"][0]["KmsKeyId"].endswith(key)
    copy = ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snap)["VolumeId"]
    described = ec2.describe_volumes(VolumeIds=[copy])["Volumes"][0]
    assert described["Encrypted"] and described["KmsKeyId"].endswith(key)

    set_policy(kms, key, ADMIN, DENY_GRANTS)
    refused = ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snap)["VolumeId"]
    assert error_code(lambda: ec2.describe_volumes(VolumeIds=[refused])) == "InvalidVolume.NotFound"
    refused_new = ec2.create_volume(Size=1, AvailabilityZone="us-east-1a", Encrypted=True, KmsKeyId=key)["VolumeId"]
    assert error_code(lambda: ec2.describe_volumes(VolumeIds=[refused_new])) == "InvalidVolume.NotFound"


def test_create_grant_dry_run_answers_by_key_policy(endpoint, kms):
    iam = client(endpoint, "iam")
    keys = {}
    for name in ("alice", "bob"):
        iam.create_user(UserName=f"kms-{name}")
        keys[name] = iam.create_access_key(UserName=f"kms-{name}")["AccessKey"]["AccessKeyId"]
    alice_only = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/kms-alice"},
                  "Action": "kms:CreateGrant", "Resource": "*"}
    key = new_key(kms, {**ADMIN, "Action": ["kms:DescribeKey", "kms:PutKeyPolicy"]}, alice_only)

    def dry_run(who: str) -> str:
        return error_code(lambda: client(endpoint, "kms", keys[who]).create_grant(
            KeyId=key, GranteePrincipal=ROOT, Operations=["Decrypt"], DryRun=True))

    assert dry_run("alice") == "DryRunOperationException"
    assert dry_run("bob") == "AccessDeniedException"
    with pytest.raises(ClientError) as denied:
        client(endpoint, "kms", keys["bob"]).create_grant(KeyId=key, GranteePrincipal=ROOT, Operations=["Decrypt"])
    message = denied.value.response["Error"]["Message"]
    assert "user/kms-bob is not authorized to perform: kms:CreateGrant" in message
    assert "no resource-based policy allows" in message
    granted = client(endpoint, "kms", keys["alice"]).create_grant(KeyId=key, GranteePrincipal=ROOT,
                                                                  Operations=["Decrypt"])
    assert granted["GrantId"]
