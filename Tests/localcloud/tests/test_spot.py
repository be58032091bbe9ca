"""Rule 8: Spot requests of RunInstances, interruption (stop) and EC2 starting the instance again."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import launch, state_of, wait_states
from test_faults import control

PERSISTENT_STOP = {"MarketType": "spot", "SpotOptions": {"SpotInstanceType": "persistent",
                                                         "InstanceInterruptionBehavior": "stop"}}


def refused(endpoint, what, payload) -> str:
    req = urllib.request.Request(f"{endpoint}/_localcloud/{what}", data=json.dumps(payload).encode(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req)
    assert info.value.code == 400
    return json.loads(info.value.read())["error"]


def test_interrupted_spot_instance_stops_and_comes_back(endpoint, ec2, al2023):
    iid = launch(ec2, al2023, InstanceMarketOptions=PERSISTENT_STOP)
    request = ec2.describe_spot_instance_requests(
        Filters=[{"Name": "instance-id", "Values": [iid]}])["SpotInstanceRequests"]
    assert [(r["Type"], r["InstanceInterruptionBehavior"], r["State"]) for r in request] == \
        [("persistent", "stop", "active")]
    assert "not a Spot Instance stopped by an interruption" in refused(endpoint, "spot/restore", {"instance_id": iid})
    wait_states(lambda: state_of(ec2, iid), "running")
    control(endpoint, "spot/interrupt", {"instance_id": iid, "region": "us-east-1"})
    wait_states(lambda: state_of(ec2, iid), "stopped")
    described = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert described["StateReason"]["Code"] == "Server.SpotInstanceShutdown"
    assert (described["InstanceLifecycle"], described["SpotInstanceRequestId"]) == \
        ("spot", request[0]["SpotInstanceRequestId"])
    control(endpoint, "spot/restore", {"instance_id": iid})
    assert wait_states(lambda: state_of(ec2, iid), "running")[0] == "pending"
    ec2.terminate_instances(InstanceIds=[iid])


def test_restore_without_a_root_volume_terminates(endpoint, ec2, al2023):
    iid = launch(ec2, al2023, InstanceMarketOptions=PERSISTENT_STOP)
    wait_states(lambda: state_of(ec2, iid), "running")
    control(endpoint, "spot/interrupt", {"instance_id": iid})
    wait_states(lambda: state_of(ec2, iid), "stopped")
    root = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"][0]
    ec2.detach_volume(VolumeId=root["Ebs"]["VolumeId"])
    wait_states(lambda: ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]["State"], "available")
    control(endpoint, "spot/restore", {"instance_id": iid})
    wait_states(lambda: state_of(ec2, iid), "terminated")
    ec2.delete_volume(VolumeId=root["Ebs"]["VolumeId"])


def test_what_cannot_be_interrupted_or_launched(endpoint, ec2, al2023):
    with pytest.raises(ClientError) as info:
        launch(ec2, al2023, InstanceMarketOptions={"MarketType": "spot", "SpotOptions": {
            "SpotInstanceType": "one-time", "InstanceInterruptionBehavior": "stop"}})
    assert info.value.response["Error"]["Code"] == "InvalidParameterCombination"
    on_demand = launch(ec2, al2023)
    assert "not a Spot Instance" in refused(endpoint, "spot/interrupt", {"instance_id": on_demand})
    assert "instance_id is required" in refused(endpoint, "spot/interrupt", {})
    assert "InvalidInstanceID.NotFound" in refused(endpoint, "spot/interrupt", {"instance_id": "i-0000000000000000f"})
    ec2.terminate_instances(InstanceIds=[on_demand])
