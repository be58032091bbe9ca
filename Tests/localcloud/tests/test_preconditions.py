"""EC2's documented preconditions answer with EC2's error codes (HTTP 400)."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import launch, state_of, wait_states


def error_code(call) -> str:
    with pytest.raises(ClientError) as info:
        call()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return info.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def running(endpoint, al2023):
    from conftest import client
    ec2 = client(endpoint, "ec2")
    iid = launch(ec2, al2023)
    wait_states(lambda: state_of(ec2, iid), "running")
    return iid


def root_volume(ec2, iid):
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    return next(b["Ebs"]["VolumeId"] for b in inst["BlockDeviceMappings"] if b["DeviceName"] == inst["RootDeviceName"])


def test_detach_root_of_running_instance_is_incorrect_state(ec2, running):
    assert error_code(lambda: ec2.detach_volume(VolumeId=root_volume(ec2, running))) == "IncorrectState"


def test_attach_attached_volume_is_volume_in_use(ec2, running):
    other = ec2.create_volume(Size=1, AvailabilityZone="us-east-1a")["VolumeId"]
    assert error_code(lambda: ec2.attach_volume(VolumeId=root_volume(ec2, running), InstanceId=running,
                                                Device="/dev/sdg")) == "VolumeInUse"
    ec2.delete_volume(VolumeId=other)


def test_attach_from_other_zone_is_zone_mismatch(ec2, running):
    vol = ec2.create_volume(Size=1, AvailabilityZone="us-east-1b")["VolumeId"]
    assert error_code(lambda: ec2.attach_volume(VolumeId=vol, InstanceId=running, Device="/dev/sdf")) \
        == "InvalidVolume.ZoneMismatch"


@pytest.mark.parametrize("device", ["/dev/foo", "sdf", "/dev/sdz99"])
def test_bad_device_name_is_invalid_parameter_value(ec2, running, device):
    vol = ec2.create_volume(Size=1, AvailabilityZone="us-east-1a")["VolumeId"]
    assert error_code(lambda: ec2.attach_volume(VolumeId=vol, InstanceId=running, Device=device)) \
        == "InvalidParameterValue"


def test_device_in_use_is_invalid_parameter_value(ec2, running):
    vol = ec2.create_volume(Size=1, AvailabilityZone="us-east-1a")["VolumeId"]
    assert error_code(lambda: ec2.attach_volume(VolumeId=vol, InstanceId=running, Device="/dev/xvda")) \
        == "InvalidParameterValue"


def test_disable_api_stop_and_termination_set_at_launch(ec2, al2023):
    iid = launch(ec2, al2023, DisableApiStop=True, DisableApiTermination=True)
    wait_states(lambda: state_of(ec2, iid), "running")
    assert error_code(lambda: ec2.stop_instances(InstanceIds=[iid])) == "OperationNotPermitted"
    assert error_code(lambda: ec2.terminate_instances(InstanceIds=[iid])) == "OperationNotPermitted"
    ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": False})
    ec2.modify_instance_attribute(InstanceId=iid, DisableApiStop={"Value": False})
    ec2.terminate_instances(InstanceIds=[iid])


def test_user_data_over_16384_raw_bytes_is_refused(ec2, al2023):
    # boto3 base64-encodes UserData itself: the limit applies to the raw bytes.
    assert error_code(lambda: ec2.run_instances(ImageId=al2023, MinCount=1, MaxCount=1,
                                                UserData="#!/bin/sh\n" + "x" * 16384)) == "InvalidParameterValue"
    exactly = "#!/bin/sh\n" + "x" * (16384 - 10)
    iid = ec2.run_instances(ImageId=al2023, MinCount=1, MaxCount=1, UserData=exactly)["Instances"][0]["InstanceId"]
    ec2.terminate_instances(InstanceIds=[iid])


def test_user_data_not_base64_is_malformed(endpoint, al2023):
    import urllib.parse
    import urllib.request
    body = urllib.parse.urlencode({"Action": "RunInstances", "Version": "2016-11-15", "ImageId": al2023,
                                   "MinCount": 1, "MaxCount": 1, "UserData": "!!not base64!!"}).encode()
    req = urllib.request.Request(endpoint, data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDRAW/20261125/us-east-1/ec2/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req)
    assert info.value.code == 400
    assert b"<Code>InvalidUserData.Malformed</Code>" in info.value.read()


def test_start_without_root_is_incorrect_instance_state(ec2, al2023):
    iid = launch(ec2, al2023)
    wait_states(lambda: state_of(ec2, iid), "running")
    ec2.stop_instances(InstanceIds=[iid])
    wait_states(lambda: state_of(ec2, iid), "stopped")
    vol = root_volume(ec2, iid)
    ec2.detach_volume(VolumeId=vol)
    wait_states(lambda: ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["State"], "available")
    assert error_code(lambda: ec2.start_instances(InstanceIds=[iid])) == "IncorrectInstanceState"
    ec2.terminate_instances(InstanceIds=[iid])


def test_unknown_instance_is_not_found(ec2):
    assert error_code(lambda: ec2.stop_instances(InstanceIds=["i-0123456789abcdef0"])) == "InvalidInstanceID.NotFound"


def test_run_instances_with_a_used_client_token_answers_the_same_instance(ec2, al2023):
    first = ec2.run_instances(ImageId=al2023, MinCount=1, MaxCount=1, ClientToken="keyrescue-run-1")
    again = ec2.run_instances(ImageId=al2023, MinCount=1, MaxCount=1, ClientToken="keyrescue-run-1")
    assert again["Instances"][0]["InstanceId"] == first["Instances"][0]["InstanceId"]
    ec2.terminate_instances(InstanceIds=[first["Instances"][0]["InstanceId"]])


def test_marketplace_volume_moves_only_between_stopped_instances(ec2, al2023):
    image = ec2.describe_images(Owners=["136693071363"],
                                Filters=[{"Name": "name", "Values": ["debian-12-amd64-marketplace-*"]}])["Images"][0]
    assert image["ProductCodes"][0]["ProductCodeType"] == "marketplace"
    target = launch(ec2, image["ImageId"])
    rescue = launch(ec2, al2023)
    wait_states(lambda: state_of(ec2, target), "running")
    inst = ec2.describe_instances(InstanceIds=[target])["Reservations"][0]["Instances"][0]
    assert inst["ProductCodes"][0]["ProductCodeType"] == "marketplace"
    ec2.stop_instances(InstanceIds=[target])
    wait_states(lambda: state_of(ec2, target), "stopped")
    vol = root_volume(ec2, target)
    ec2.detach_volume(VolumeId=vol)
    wait_states(lambda: ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["State"], "available")
    wait_states(lambda: state_of(ec2, rescue), "running")
    assert error_code(lambda: ec2.attach_volume(VolumeId=vol, InstanceId=rescue, Device="/dev/sdf")) \
        == "IncorrectInstanceState"
    ec2.stop_instances(InstanceIds=[rescue])
    wait_states(lambda: state_of(ec2, rescue), "stopped")
    ec2.attach_volume(VolumeId=vol, InstanceId=rescue, Device="/dev/sdf")
    wait_states(lambda: ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["Attachments"][0]["State"], "attached")
    ec2.start_instances(InstanceIds=[rescue])
    wait_states(lambda: state_of(ec2, rescue), "running")
    assert error_code(lambda: ec2.detach_volume(VolumeId=vol)) == "IncorrectInstanceState"
    ec2.terminate_instances(InstanceIds=[target, rescue])


def _image(ec2, pattern: str) -> dict:
    return ec2.describe_images(Owners=["136693071363"], Filters=[{"Name": "name", "Values": [pattern]}])["Images"][0]


def test_stopping_an_instance_store_instance_is_unsupported(ec2):
    image = _image(ec2, "debian-12-amd64-instance-store-*")
    assert image["RootDeviceType"] == "instance-store"
    target = launch(ec2, image["ImageId"])
    inst = ec2.describe_instances(InstanceIds=[target])["Reservations"][0]["Instances"][0]
    assert inst["RootDeviceType"] == "instance-store"
    wait_states(lambda: state_of(ec2, target), "running")
    assert error_code(lambda: ec2.stop_instances(InstanceIds=[target])) == "UnsupportedOperation"
    ec2.terminate_instances(InstanceIds=[target])


def test_windows_image_and_instance_say_so(ec2):
    image = _image(ec2, "windows-server-2022-*")
    assert image["Platform"] == "windows"
    target = launch(ec2, image["ImageId"])
    inst = ec2.describe_instances(InstanceIds=[target])["Reservations"][0]["Instances"][0]
    assert inst["Platform"] == "windows"
    ec2.terminate_instances(InstanceIds=[target])
