"""Rule 5: a stop/start gives a new public IPv4, except an Elastic IP; none with two interfaces."""
from __future__ import annotations

from conftest import launch, state_of, wait_states


def public_ip(ec2, iid: str) -> str | None:
    return ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0].get("PublicIpAddress")


def cycle(ec2, ids: list[str]) -> None:
    ec2.stop_instances(InstanceIds=ids)
    for iid in ids:
        wait_states(lambda i=iid: state_of(ec2, i), "stopped")
    ec2.start_instances(InstanceIds=ids)
    for iid in ids:
        wait_states(lambda i=iid: state_of(ec2, i), "running")


def test_public_addresses_across_a_stop_and_start(ec2, al2023):
    plain, elastic, two_nics = (launch(ec2, al2023) for _ in range(3))
    for iid in (plain, elastic, two_nics):
        wait_states(lambda i=iid: state_of(ec2, i), "running")
    eip = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(AllocationId=eip["AllocationId"], InstanceId=elastic)
    subnet = ec2.describe_instances(InstanceIds=[two_nics])["Reservations"][0]["Instances"][0]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=two_nics, DeviceIndex=1)
    before = {iid: public_ip(ec2, iid) for iid in (plain, elastic, two_nics)}
    assert all(before.values()) and before[elastic] == eip["PublicIp"]
    cycle(ec2, [plain, elastic, two_nics])
    assert public_ip(ec2, plain) not in (None, before[plain])
    assert public_ip(ec2, elastic) == eip["PublicIp"]
    assert public_ip(ec2, two_nics) is None
    ec2.terminate_instances(InstanceIds=[plain, elastic, two_nics])
    ec2.release_address(AllocationId=eip["AllocationId"])
