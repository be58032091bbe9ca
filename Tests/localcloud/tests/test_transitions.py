"""Transitions take time: a poll sees the intermediate states EC2 shows."""
from __future__ import annotations

import json
import urllib.request

from conftest import launch, state_of, wait_states


def volume_state(ec2, vol):
    return ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["State"]


def attachment_state(ec2, vol):
    attachments = ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["Attachments"]
    return attachments[0]["State"] if attachments else "detached"


def test_instance_lifecycle_shows_intermediate_states(ec2, al2023):
    iid = launch(ec2, al2023)
    assert wait_states(lambda: state_of(ec2, iid), "running") == ["pending", "running"]
    assert ec2.stop_instances(InstanceIds=[iid])["StoppingInstances"][0]["CurrentState"]["Name"] == "stopping"
    assert wait_states(lambda: state_of(ec2, iid), "stopped") == ["stopping", "stopped"]
    assert ec2.start_instances(InstanceIds=[iid])["StartingInstances"][0]["CurrentState"]["Name"] == "pending"
    assert wait_states(lambda: state_of(ec2, iid), "running") == ["pending", "running"]
    assert ec2.terminate_instances(InstanceIds=[iid])["TerminatingInstances"][0]["CurrentState"]["Name"] \
        == "shutting-down"
    assert wait_states(lambda: state_of(ec2, iid), "terminated") == ["shutting-down", "terminated"]
    log = [t for t in json.load(urllib.request.urlopen(f"{ec2.meta.endpoint_url}/_localcloud/transitions"))
           if t["instance_id"] == iid]
    assert [t["state"] for t in log] == ["pending", "running", "stopping", "stopped", "pending", "running",
                                         "shutting-down", "terminated"]
    assert [t["time"] for t in log] == sorted(t["time"] for t in log)


def test_volume_attach_detach_and_snapshot_show_intermediate_states(ec2, al2023):
    iid = launch(ec2, al2023)
    vol = ec2.create_volume(Size=1, AvailabilityZone="us-east-1a")["VolumeId"]
    wait_states(lambda: state_of(ec2, iid), "running")
    assert ec2.attach_volume(VolumeId=vol, InstanceId=iid, Device="/dev/sdf")["State"] == "attaching"
    assert wait_states(lambda: attachment_state(ec2, vol), "attached") == ["attaching", "attached"]
    snap = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
    assert wait_states(lambda: ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"][0]["State"],
                       "completed") == ["pending", "completed"]
    assert ec2.detach_volume(VolumeId=vol)["State"] == "detaching"
    assert wait_states(lambda: attachment_state(ec2, vol), "detached") == ["detaching", "detached"]
    assert volume_state(ec2, vol) == "available"
    ec2.terminate_instances(InstanceIds=[iid])


def test_instance_initiated_shutdown_terminates_when_asked(ec2, al2023):
    iid = launch(ec2, al2023, InstanceInitiatedShutdownBehavior="terminate",
                 UserData="#!/bin/sh\necho going down\nshutdown -h now\n")
    seen = wait_states(lambda: state_of(ec2, iid), "terminated")
    assert "shutting-down" in seen


def test_instance_initiated_poweroff_stops_by_default(ec2, al2023):
    iid = launch(ec2, al2023, UserData="#!/bin/sh\npoweroff\n")
    seen = wait_states(lambda: state_of(ec2, iid), "stopped")
    assert "stopping" in seen
    ec2.terminate_instances(InstanceIds=[iid])
