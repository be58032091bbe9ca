"""Networks: from inside an instance the cloud answers only what its VPC would carry.

Each instance's user-data curls a presigned S3 GET and an EC2 query at the usual
http://127.0.0.1:PORT and prints what curl said; the VPCs are built through boto3 as a
client would build them (route tables, internet and NAT gateways, an S3 gateway endpoint,
VPC Block Public Access)."""
from __future__ import annotations

import re

import boto3
import pytest
from botocore.config import Config

from conftest import console_until, client, launch

BUCKET = "lc-networks"


def probe_script(get_url: str, endpoint: str, attempts: int = 1) -> str:
    """Prints `s3=<curl exit>` and `ec2=<curl exit>` for each attempt, then `done`."""
    return f"""#!/bin/sh
echo "addresses: $(hostname -I)"
for i in $(seq 1 {attempts}); do
    curl -fsS -o /dev/null '{get_url}'; echo "s3=$?"
    curl -fsS -o /dev/null '{endpoint}/?Action=DescribeAccountAttributes&Version=2016-11-15'; echo "ec2=$?"
    sleep 0.5
done
echo done
"""


@pytest.fixture(scope="module")
def s3_url(endpoint):
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDNET",
                      aws_secret_access_key="x", config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="agent", Body=b"the agent")
    return s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "agent"}, ExpiresIn=3600)


def results(ec2, iid: str) -> tuple[str, str]:
    """(s3, ec2): "ok" or "fails" (curl's exit status), from the first attempt."""
    text = console_until(ec2, iid, "\ndone", timeout=90)
    s3 = re.search(r"s3=(\d+)", text).group(1)
    ec2_ = re.search(r"ec2=(\d+)", text).group(1)
    return ("ok" if s3 == "0" else "fails", "ok" if ec2_ == "0" else "fails")


class Vpc:
    """A VPC with an internet gateway and helpers for its subnets, as a client makes them."""

    def __init__(self, ec2, cidr: str = "10.20.0.0/16"):
        self.ec2 = ec2
        self.id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        self.igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=self.igw, VpcId=self.id)
        self._next = 0

    def subnet(self, default_route: dict | None = None, public_ips: bool = False) -> tuple[str, str]:
        """A subnet with a route table of its own: (subnet id, route table id)."""
        self._next += 1
        prefix = self.id and ".".join(self.ec2.describe_vpcs(VpcIds=[self.id])["Vpcs"][0]["CidrBlock"].split(".")[:2])
        subnet = self.ec2.create_subnet(VpcId=self.id, CidrBlock=f"{prefix}.{self._next}.0/24",
                                        AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        if public_ips:
            self.ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
        table = self.ec2.create_route_table(VpcId=self.id)["RouteTable"]["RouteTableId"]
        self.ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        if default_route is not None:
            self.ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", **default_route)
        return subnet, table

    def public_subnet(self) -> str:
        return self.subnet({"GatewayId": self.igw}, public_ips=True)[0]

    def nat_gateway(self) -> str:
        allocation = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        return self.ec2.create_nat_gateway(SubnetId=self.public_subnet(), AllocationId=allocation)["NatGateway"]["NatGatewayId"]


def test_default_vpc_reaches_the_cloud_and_a_subnet_without_a_route_does_not(endpoint, ec2, al2023, s3_url):
    vpc = Vpc(ec2)
    private, _ = vpc.subnet()
    in_default = launch(ec2, al2023, UserData=probe_script(s3_url, endpoint))
    in_private = launch(ec2, al2023, SubnetId=private, UserData=probe_script(s3_url, endpoint))
    assert results(ec2, in_default) == ("ok", "ok")
    assert results(ec2, in_private) == ("fails", "fails")
    # Its own address, in its subnet, is what the instance sees on its interface.
    private_ip = ec2.describe_instances(InstanceIds=[in_private])["Reservations"][0]["Instances"][0]["PrivateIpAddress"]
    assert f"addresses: {private_ip}" in ec2.get_console_output(InstanceId=in_private)["Output"]
    ec2.terminate_instances(InstanceIds=[in_default, in_private])


def test_public_subnet_needs_a_public_address(endpoint, ec2, al2023, s3_url):
    vpc = Vpc(ec2, "10.21.0.0/16")
    public = vpc.public_subnet()
    mapped = launch(ec2, al2023, SubnetId=public, UserData=probe_script(s3_url, endpoint))
    unmapped = launch(ec2, al2023, UserData=probe_script(s3_url, endpoint),
                      NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": public, "AssociatePublicIpAddress": False}])
    assert results(ec2, mapped) == ("ok", "ok")
    assert results(ec2, unmapped) == ("fails", "fails")
    ec2.terminate_instances(InstanceIds=[mapped, unmapped])


def test_nat_gateway_and_s3_gateway_endpoint(endpoint, ec2, al2023, s3_url):
    vpc = Vpc(ec2, "10.22.0.0/16")
    behind_nat, _ = vpc.subnet({"NatGatewayId": vpc.nat_gateway()})
    with_endpoint, table = vpc.subnet()
    ec2.create_vpc_endpoint(VpcId=vpc.id, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway",
                            RouteTableIds=[table])
    nat = launch(ec2, al2023, SubnetId=behind_nat, UserData=probe_script(s3_url, endpoint))
    s3_only = launch(ec2, al2023, SubnetId=with_endpoint, UserData=probe_script(s3_url, endpoint))
    assert results(ec2, nat) == ("ok", "ok")
    assert results(ec2, s3_only) == ("ok", "fails")
    ec2.terminate_instances(InstanceIds=[nat, s3_only])


def test_a_nat_gateway_in_a_subnet_without_an_internet_route_leads_nowhere(endpoint, ec2, al2023, s3_url):
    vpc = Vpc(ec2, "10.23.0.0/16")
    nat_home, _ = vpc.subnet()
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=nat_home, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    behind, _ = vpc.subnet({"NatGatewayId": nat})
    iid = launch(ec2, al2023, SubnetId=behind, UserData=probe_script(s3_url, endpoint))
    assert results(ec2, iid) == ("fails", "fails")
    ec2.terminate_instances(InstanceIds=[iid])


def test_routes_are_judged_at_each_connection(endpoint, ec2, al2023, s3_url):
    """A route added while the instance runs opens the way for its next attempt."""
    vpc = Vpc(ec2, "10.24.0.0/16")
    subnet, table = vpc.subnet(public_ips=True)
    iid = launch(ec2, al2023, SubnetId=subnet, UserData=probe_script(s3_url, endpoint, attempts=120))
    console_until(ec2, iid, "ec2=")
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=vpc.igw)
    text = console_until(ec2, iid, "s3=0")
    assert re.search(r"s3=[1-9]", text), "the attempts before the route failed"
    ec2.terminate_instances(InstanceIds=[iid])


def test_vpc_block_public_access(endpoint, ec2, al2023, s3_url):
    assert ec2.describe_vpc_block_public_access_options()["VpcBlockPublicAccessOptions"]["InternetGatewayBlockMode"] == "off"
    vpc = Vpc(ec2, "10.25.0.0/16")
    public = vpc.public_subnet()
    behind_nat, _ = vpc.subnet({"NatGatewayId": vpc.nat_gateway()})
    try:
        answer = ec2.modify_vpc_block_public_access_options(InternetGatewayBlockMode="block-ingress")
        assert answer["VpcBlockPublicAccessOptions"]["InternetGatewayBlockMode"] == "block-ingress"
        direct = launch(ec2, al2023, SubnetId=public, UserData=probe_script(s3_url, endpoint))
        nat = launch(ec2, al2023, SubnetId=behind_nat, UserData=probe_script(s3_url, endpoint))
        assert results(ec2, direct) == ("fails", "fails")
        assert results(ec2, nat) == ("ok", "ok"), "block-ingress lets NAT gateways' outbound traffic through"
        ec2.modify_vpc_block_public_access_options(InternetGatewayBlockMode="block-bidirectional")
        nat2 = launch(ec2, al2023, SubnetId=behind_nat, UserData=probe_script(s3_url, endpoint))
        assert results(ec2, nat2) == ("fails", "fails")
        with pytest.raises(ec2.exceptions.ClientError) as bad:
            ec2.modify_vpc_block_public_access_options(InternetGatewayBlockMode="block-everything")
        assert bad.value.response["Error"]["Code"] == "InvalidParameterValue"
        ec2.terminate_instances(InstanceIds=[direct, nat, nat2])
    finally:
        ec2.modify_vpc_block_public_access_options(InternetGatewayBlockMode="off")


def test_refused_requests_never_reach_the_cloud(endpoint, ec2, al2023):
    """A request the VPC does not carry leaves no trace in the call log (it never reached AWS)."""
    import json
    import urllib.request
    vpc = Vpc(ec2, "10.26.0.0/16")
    private, _ = vpc.subnet()
    key = "AKIDFROMPRIVATE"
    sts = client(endpoint, "sts", key=key)
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=600)
    script = f"#!/bin/sh\ncurl -fsS -o /dev/null '{url}'; echo \"sts=$?\"\necho done\n"
    iid = launch(ec2, al2023, SubnetId=private, UserData=script)
    console_until(ec2, iid, "\ndone")
    calls = json.loads(urllib.request.urlopen(f"{endpoint}/_localcloud/calls").read())
    assert not [c for c in calls if c["access_key_id"] == key]
    ec2.terminate_instances(InstanceIds=[iid])
