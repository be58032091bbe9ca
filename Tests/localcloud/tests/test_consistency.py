"""Rule 2: new ids are unknown for a while (the lag fault here; `settle` is 0 in the fast profile)."""
from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError

from test_faults import control


def code_of(call) -> str | None:
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def test_a_lagging_group_is_unknown_to_describe_and_to_run_instances(endpoint, ec2, al2023):
    control(endpoint, "faults", {"action": "CreateSecurityGroup", "kind": "lag", "seconds": 2})
    group = ec2.create_security_group(GroupName=f"lag-{uuid.uuid4()}", Description="lag")["GroupId"]
    assert code_of(lambda: ec2.describe_security_groups(GroupIds=[group])) == "InvalidGroup.NotFound"
    assert code_of(lambda: ec2.run_instances(ImageId=al2023, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                             SecurityGroupIds=[group])) == "InvalidGroup.NotFound"
    other = ec2.create_security_group(GroupName=f"nolag-{uuid.uuid4()}", Description="count 1: no lag")["GroupId"]
    assert ec2.describe_security_groups(GroupIds=[other])["SecurityGroups"][0]["GroupId"] == other
    time.sleep(2.1)
    assert ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["GroupId"] == group
    ec2.delete_security_group(GroupId=group)
    ec2.delete_security_group(GroupId=other)


def test_lagging_instances_volumes_snapshots(endpoint, ec2, al2023):
    for action in ("RunInstances", "CreateVolume", "CreateSnapshot"):
        control(endpoint, "faults", {"action": action, "kind": "lag", "seconds": 1.5})
    iid = ec2.run_instances(ImageId=al2023, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]["InstanceId"]
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
    assert code_of(lambda: ec2.describe_instances(InstanceIds=[iid])) == "InvalidInstanceID.NotFound"
    assert code_of(lambda: ec2.describe_volumes(VolumeIds=[vol])) == "InvalidVolume.NotFound"
    assert code_of(lambda: ec2.describe_snapshots(SnapshotIds=[snap])) == "InvalidSnapshot.NotFound"
    # botocore's waiter retries NotFound, as a client must
    ec2.get_waiter("instance_exists").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["VolumeId"] == vol
    assert ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"][0]["SnapshotId"] == snap
    ec2.terminate_instances(InstanceIds=[iid])
    ec2.delete_snapshot(SnapshotId=snap)
    ec2.delete_volume(VolumeId=vol)


@pytest.mark.parametrize("spec,says", [
    ({"action": "DescribeInstances", "kind": "lag", "seconds": 2}, "applies to RunInstances"),
    ({"action": "RunInstances", "kind": "deny-untagged"}, "needs a tag"),
    ({"action": "StopInstances", "kind": "vcpu-limit"}, "applies to RunInstances, StartInstances"),
])
def test_faults_that_could_never_fire_are_refused(endpoint, spec, says):
    import json
    import urllib.error
    import urllib.request
    req = urllib.request.Request(f"{endpoint}/_localcloud/faults", data=json.dumps(spec).encode(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req)
    assert info.value.code == 400 and says in json.loads(info.value.read())["error"]
