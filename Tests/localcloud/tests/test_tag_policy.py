"""Rule 11: the deny-untagged fault, an organisation's SCP requiring a tag on everything created."""
from __future__ import annotations

import base64
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import launch
from test_faults import control


def tags_for(*types: str) -> list[dict]:
    return [{"ResourceType": t, "Tags": [{"Key": "owner", "Value": "rescue"}]} for t in types]


def test_untagged_launches_are_denied_with_an_encoded_message(endpoint, ec2, al2023):
    control(endpoint, "faults", {"action": "RunInstances", "kind": "deny-untagged", "tag": "owner", "count": 3})
    with pytest.raises(ClientError) as info:   # no network-interface tag
        launch(ec2, al2023, TagSpecifications=tags_for("instance", "volume"), DryRun=True)
    error = info.value.response["Error"]
    assert error["Code"] == "UnauthorizedOperation"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    prefix = "You are not authorized to perform this operation. Encoded authorization failure message: "
    assert error["Message"].startswith(prefix)
    decoded = json.loads(base64.urlsafe_b64decode(error["Message"][len(prefix):]))
    assert decoded["context"]["untaggedResourceTypes"] == ["network-interface"]
    with pytest.raises(ClientError) as info:
        launch(ec2, al2023, TagSpecifications=tags_for("instance", "volume", "network-interface"), DryRun=True)
    assert info.value.response["Error"]["Code"] == "DryRunOperation"
    iid = launch(ec2, al2023, TagSpecifications=tags_for("instance", "volume", "network-interface"))
    described = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    eni = described["NetworkInterfaces"][0]["NetworkInterfaceId"]
    eni_tags = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["TagSet"]
    assert {"Key": "owner", "Value": "rescue"} in eni_tags   # kept, where moto would drop it
    untagged = launch(ec2, al2023)   # the fault fired 3 times: the policy is gone
    ec2.terminate_instances(InstanceIds=[iid, untagged])


def test_untagged_volumes_groups_snapshots_are_denied(endpoint, ec2):
    for action in ("CreateVolume", "CreateSecurityGroup", "CreateSnapshot"):
        control(endpoint, "faults", {"action": action, "kind": "deny-untagged", "tag": "owner"})
    with pytest.raises(ClientError) as info:
        ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, TagSpecifications=tags_for("snapshot"))
    assert info.value.response["Error"]["Code"] == "UnauthorizedOperation"
    with pytest.raises(ClientError) as info:
        ec2.create_security_group(GroupName=f"untagged-{uuid.uuid4()}", Description="x")
    assert info.value.response["Error"]["Code"] == "UnauthorizedOperation"
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]   # CreateVolume's fault is spent
    snap = ec2.create_snapshot(VolumeId=vol, TagSpecifications=tags_for("snapshot"))["SnapshotId"]
    ec2.delete_snapshot(SnapshotId=snap)
    ec2.delete_volume(VolumeId=vol)
