"""Two corrections to moto's instance model, applied once at import.

- A new instance is `pending`, not `running` (the cloud moves it on after the profile's time).
- Its root volume is at the AMI's root device name (moto puts it at /dev/sda1 always) and
  remembers the AMI's snapshot, so the cloud can give it a copy of the AMI's image.
"""
from __future__ import annotations

from moto.ec2.models.instances import Instance, InstanceState

_original_init = Instance.__init__


def _init(self, *args, **kwargs) -> None:
    _original_init(self, *args, **kwargs)
    self._state = InstanceState("pending", 0)


def _setup_defaults(self) -> None:
    ami = self.ec2_backend.amis.get(self.image_id)
    snapshot = getattr(ami, "ebs_snapshot", None)
    volume = self.ec2_backend.create_volume(size=8, zone_name=self._placement.zone,
                                            snapshot_id=snapshot.id if snapshot else None)
    self.ec2_backend.attach_volume(volume.id, self.id, self.root_device_name, True)


Instance.__init__ = _init
Instance.setup_defaults = _setup_defaults
