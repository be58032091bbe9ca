"""Instance-store volumes: what DescribeInstanceTypes' InstanceStorageInfo lists, as sparse images.

EC2 user guide, "Instance store temporary block storage for EC2 instances": "The data on an
instance store volume persists only during the life of the associated instance"; it is lost
when the instance stops, hibernates or terminates (a reboot keeps it). "NVMe instance store
volumes are automatically enumerated and assigned a device name" (BlockDeviceMapping,
VirtualName); udev names them /dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_<serial>
from their NVMe model "Amazon EC2 NVMe Instance Storage". Only NVMe instance storage is
modelled (NvmeSupport required or supported); older HDD/SSD storage needs a block device
mapping (ephemeralN) and is left out.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .runtime import InstanceStoreDisk


def storage_info(backend, instance_type: str) -> dict | None:
    try:
        found = backend.describe_instance_types([instance_type])
    except Exception:   # a type moto does not know: no instance storage
        return None
    return found[0].get("InstanceStorageInfo") if found else None


def disks_for(backend, instance_type: str, instance_id: str, workdir: Path) -> tuple[InstanceStoreDisk, ...]:
    info = storage_info(backend, instance_type)
    if not info or info.get("NvmeSupport") not in ("required", "supported"):
        return ()
    disks = []
    for group in info.get("Disks", []):
        for _ in range(int(group.get("Count", 0))):
            k = len(disks)
            serial = "AWS" + hashlib.sha1(f"{instance_id}/{k}".encode()).hexdigest()[:17].upper()
            disks.append(InstanceStoreDisk(serial, workdir / f"instance-store-{k}.img", int(group["SizeInGB"]) * 10**9))
    return tuple(disks)


def ensure(disk: InstanceStoreDisk) -> None:
    if not disk.image.exists():
        erase(disk)


def erase(disk: InstanceStoreDisk) -> None:
    """All zeroes, as a stop leaves it: a sparse file of the disk's size."""
    with open(disk.image, "wb") as f:
        f.truncate(disk.size)
    os.chmod(disk.image, 0o600)
