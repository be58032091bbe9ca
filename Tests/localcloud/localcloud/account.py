"""Makes each region of the account look like a new AWS account's, and registers the seed AMIs.

moto already has a default VPC with default subnets in each AZ mapping public IPs;
a new account also has an internet gateway attached to it and a 0.0.0.0/0 route to
that gateway in the VPC's main route table. The AMIs: the Amazon Linux 2023 AMI that
the public SSM parameter names is backed by al2023.img; two Debian 12 AMIs (ext4 and
XFS, owner 136693071363 as Debian's own), a Debian one carrying a Marketplace product
code, one with an instance-store root and a Windows one are registered per region (the last
three exist for the controller's refusals and warnings; their disks are the Debian image).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends
from moto.ec2.models.amis import Ami
from moto.ec2.utils import random_ami_id
from moto.ssm.models import ssm_backends

AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
DEBIAN_OWNER = "136693071363"
MARKETPLACE_CODE = "lc0marketplace0debian0000"   # a Marketplace product code (25 characters, like AWS's)


@dataclass(frozen=True)
class SeedAmi:
    region: str
    image_id: str
    name: str
    login_user: str
    filesystem: str
    image: Path
    ssm_agent: bool = False     # the AMI has the SSM Agent (AL2023, as Amazon's AMIs; not Debian's)

    def as_json(self) -> dict:
        d = asdict(self)
        d["image"] = str(self.image)
        return d


def ec2_backend(region: str):
    return ec2_backends[DEFAULT_ACCOUNT_ID][region]


def add_internet_gateway(backend) -> None:
    vpc = next((v for v in backend.vpcs.values() if v.is_default), None)
    if vpc is None or any(igw.vpc is vpc for igw in backend.internet_gateways.values()):
        return
    igw = backend.create_internet_gateway()
    backend.attach_internet_gateway(igw.id, vpc.id)
    for table in backend.route_tables.values():
        if table.vpc_id == vpc.id and table.main_association_id:
            backend.create_route(table.id, "0.0.0.0/0", gateway_id=igw.id)


def register_seed_amis(region: str, seed_dir: Path) -> list[SeedAmi]:
    backend = ec2_backend(region)
    seeds: list[SeedAmi] = []
    try:
        al2023 = ssm_backends[DEFAULT_ACCOUNT_ID][region].get_parameter(AL2023_PARAMETER).value
    except Exception:
        al2023 = None
    if al2023 and al2023 in backend.amis:
        ami = backend.amis[al2023]
        seeds.append(SeedAmi(region, al2023, ami.name, "ec2-user", "xfs", seed_dir / "al2023.img", ssm_agent=True))
    for name, fs, image, codes, root_type, platform in (
            ("debian-12-amd64-20261125-localcloud", "ext4", "debian-12.img", None, "ebs", None),
            ("debian-12-amd64-xfs-20261125-localcloud", "xfs", "debian-12-xfs.img", None, "ebs", None),
            ("debian-12-amd64-marketplace-20261125-localcloud", "ext4", "debian-12.img", {MARKETPLACE_CODE},
             "ebs", None),
            ("debian-12-amd64-instance-store-20261125-localcloud", "ext4", "debian-12.img", None,
             "instance-store", None),
            ("windows-server-2022-english-full-base-20261125-localcloud", "ext4", "debian-12.img", None,
             "ebs", "windows")):
        ami = Ami(backend, ami_id=random_ami_id(), name=name, owner_id=DEBIAN_OWNER, product_codes=codes,
                  description=f"Debian 12 (bookworm), {fs} root on GPT, local cloud seed image",
                  public=True, virtualization_type="hvm", architecture="x86_64", hypervisor="xen",
                  root_device_type=root_type, root_device_name="/dev/xvda", region_name=region,
                  boot_mode="uefi-preferred", platform=platform)
        backend.amis[ami.id] = ami
        seeds.append(SeedAmi(region, ami.id, name, "admin", fs, seed_dir / image))
    return seeds
