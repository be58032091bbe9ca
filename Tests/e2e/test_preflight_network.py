"""Issue 12, rule 2: the rescue host goes to a subnet of the target's VPC, in its zone, whose route
table reaches S3; with none, the run is refused before anything changes (the target is never
stopped: the cloud's transition log)."""
from __future__ import annotations

import json
import time
import urllib.request

from conftest import image, wait_state

ZONE = "us-east-1a"


def network(ec2, public: bool) -> tuple[str, str, str | None]:
    """A VPC with a private subnet (its own table, no default route) and, if `public`, a subnet in
    the same zone whose table routes 0.0.0.0/0 to an internet gateway but maps no public IPv4."""
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24", AvailabilityZone=ZONE)["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=private)
    if not public:
        return vpc, private, None
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.2.0/24", AvailabilityZone=ZONE)["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": False})
    routes = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=routes, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=routes, SubnetId=subnet)
    return vpc, private, subnet


def launch_in(ec2, subnet: str) -> str:
    iid = ec2.run_instances(ImageId=image(ec2, "debian-12-amd64-2*"), InstanceType="t3.micro", SubnetId=subnet,
                            MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wait_state(ec2, iid, "running")
    return iid


def states_of(cloud: str, iid: str) -> list[str]:
    return [t["state"] for t in json.load(urllib.request.urlopen(f"{cloud}/_localcloud/transitions"))
            if t["instance_id"] == iid]


def test_a_private_subnet_sends_the_host_to_the_zones_internet_subnet(ec2, cloud, rescuer, tmp_path):
    _, private, public = network(ec2, public=True)
    iid = launch_in(ec2, private)
    plan = rescuer.run("plan", iid, "--generate-key", str(tmp_path / "p"))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert f"rescue host subnet: {public} (with a public IPv4)" in plan.stdout
    assert "maps none" in plan.stdout
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "n"), "--yes", "--verify", "none")
    assert out.returncode == 0, out.stdout + out.stderr
    [run_id] = rescuer.run_ids()
    host = rescuer.record(run_id)["plan"]["rescueHost"]
    assert host["subnetID"] == public and host["associatePublicIP"] is True
    assert states_of(cloud, iid)[-1] == "running"


def test_no_subnet_reaching_s3_is_refused_before_the_stop(ec2, cloud, rescuer, tmp_path):
    _, private, _ = network(ec2, public=False)
    iid = launch_in(ec2, private)
    before = states_of(cloud, iid)
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "n"), "--yes", "--verify", "none")
    assert out.returncode == 3, out.stdout + out.stderr
    text = out.stdout + out.stderr
    assert "can reach S3" in text
    for remedy in ("S3 gateway endpoint", "NAT gateway", "--subnet"):
        assert remedy in text
    time.sleep(1)
    assert states_of(cloud, iid) == before and "stopping" not in before
    assert rescuer.run_ids() == []
