"""How EC2 presents an EBS volume to the guest, as names in a private /dev.

Nitro: NVMe disks nvme<N>n1 (root N=0), partitions nvme<N>n1p<k>, udev's
/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc… links (the serial is the
volume id without its dash), and the requested name (/dev/sdf) as a symlink, as
Amazon Linux's amazon-ec2-utils udev rules make. Xen: /dev/sdf appears as /dev/xvdf,
partitions xvdf1…, with /dev/sdf a symlink to it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Families still on the Xen hypervisor; everything newer is Nitro.
_XEN_FAMILIES = {"t1", "t2", "m1", "m2", "m3", "m4", "c1", "c3", "c4", "r3", "r4", "i2", "i3",
                 "x1", "x1e", "d2", "g2", "g3", "p2", "p3", "h1", "f1", "cc2", "cr1", "hs1"}


def is_nitro(instance_type: str) -> bool:
    return instance_type.split(".")[0] not in _XEN_FAMILIES


@dataclass(frozen=True)
class DeviceNames:
    disk: str                        # name under /dev of the whole disk
    partition_prefix: str            # disk + this + k = partition k
    links: tuple[tuple[str, str], ...]  # (link path under /dev, target relative to that link's dir)


def nitro_names(index: int, volume_id: str, requested: str) -> DeviceNames:
    disk = f"nvme{index}n1"
    serial = volume_id.replace("-", "")
    links = [(f"disk/by-id/nvme-Amazon_Elastic_Block_Store_{serial}", f"../../{disk}")]
    short = requested.removeprefix("/dev/")
    if short and short != disk and "/" not in short:
        links.append((short, disk))
    return DeviceNames(disk=disk, partition_prefix="p", links=tuple(links))


def xen_names(requested: str) -> DeviceNames:
    short = requested.removeprefix("/dev/")
    match = re.fullmatch(r"(?:sd|xvd|hd)([a-z]{1,2})(\d*)", short)
    letters = match.group(1) if match else "z"
    disk = f"xvd{letters}"
    links = [] if short == disk or (match and match.group(2)) else [(short, disk)]
    return DeviceNames(disk=disk, partition_prefix="", links=tuple(links))


def partition_name(names: DeviceNames, k: int) -> str:
    return f"{names.disk}{names.partition_prefix}{k}"


def instance_store_names(index: int, serial: str) -> DeviceNames:
    """An NVMe instance-store disk: udev names it by its model, Amazon EC2 NVMe Instance Storage."""
    disk = f"nvme{index}n1"
    return DeviceNames(disk=disk, partition_prefix="p",
                       links=((f"disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_{serial}", f"../../{disk}"),))
