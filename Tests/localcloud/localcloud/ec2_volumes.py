"""EBS for the local cloud: volume and snapshot images kept in step with moto, and
AttachVolume/DetachVolume with EC2's preconditions, their time, and the running instance's devices.

A mixin of EC2Layer (ec2.py): it uses its `cloud`, `disks`, `records`, `marketplace`,
`_record` and `_guarded`.
"""
from __future__ import annotations

import time

from . import ec2_kms, ec2rules, ec2xml
from .calls import Call
from .errors import EC2Error
from .runtime import Volume


class VolumeActions:
    # disks -----------------------------------------------------------------------
    def reconcile_disks(self, backend) -> None:
        """Every volume has its image, every snapshot of ours its copy; the rest is deleted."""
        for volume in backend.volumes.values():
            if volume.snapshot_id in self.marketplace:
                self.marketplace.add(volume.id)
            path = self.disks.volume(volume.id)
            if path.exists():
                continue
            source = self.disks.snapshot(volume.snapshot_id) if volume.snapshot_id else None
            if source is not None and source.exists():
                self.disks.create_from(volume.id, source, volume.size)
            else:
                self.disks.create_blank(volume.id, volume.size)
        for snap in backend.snapshots.values():
            if getattr(snap, "from_ami", None) or snap.id in self.disks.snapshot_sources:
                continue
            if snap.volume.id in self.marketplace:
                self.marketplace.add(snap.id)
            if not self.disks.snapshot(snap.id).exists() and self.disks.volume(snap.volume.id).exists():
                self.disks.snapshot_volume(snap.volume.id, snap.id)
                snap.status = "pending"
                self.cloud.later(self.cloud.profile.snapshot, self.cloud.faults.take("CreateSnapshot", ("stall",)),
                                 lambda s=snap: setattr(s, "status", "completed"))
        live = set(backend.volumes)
        for image in self.disks.volumes.glob("vol-*.img"):
            if image.stem not in live:
                image.unlink(missing_ok=True)
        snaps = set(backend.snapshots)
        for image in self.disks.snapshots.glob("snap-*.img"):
            if image.stem not in snaps:
                image.unlink(missing_ok=True)


    # volumes -----------------------------------------------------------------------
    def _attach(self, backend, call: Call) -> bytes:
        volume = backend.get_volume(call.params.get("VolumeId", ""))
        instance = backend.get_instance(call.params.get("InstanceId", ""))
        device = call.params.get("Device", "")
        ec2rules.check_attach(volume, instance, device, volume.id in self.marketplace)
        ec2_kms.check_attach(volume, call)
        attachment = backend.attach_volume(volume.id, instance.id, device)
        attachment.status = "attaching"
        instance.block_device_mapping[device].status = "attaching"
        stall = self.cloud.faults.take("AttachVolume", ("stall",))
        rec = self._record(instance)

        def done() -> None:
            if volume.attachment is not attachment:
                return
            attachment.status = "attached"
            instance.block_device_mapping[device].status = "in-use"
            if rec.runtime_up and rec.runtime is not None:
                vol = Volume(volume.id, self.disks.volume(volume.id), device)
                rec.worker.submit(self._guarded, lambda: rec.runtime.attach(vol))

        self.cloud.later(self.cloud.profile.attach, stall, done)
        return ec2xml.attachment("AttachVolume", volume.id, instance.id, device, "attaching",
                                 attachment.attach_time)

    def _detach(self, backend, call: Call) -> bytes:
        volume = backend.get_volume(call.params.get("VolumeId", ""))
        busy = self.busy.again(volume, call)   # already busy: Force ends it (busy_detach.py)
        if busy is not None:
            return busy
        attachment = volume.attachment
        ec2rules.check_detach(volume, attachment.status if attachment else "available", volume.id in self.marketplace)
        instance, device = attachment.instance, attachment.device
        if call.params.get("InstanceId") and call.params["InstanceId"] != instance.id:
            raise EC2Error("InvalidAttachment.NotFound",
                           f"Volume '{volume.id}' is not attached to instance '{call.params['InstanceId']}'")
        rec = self._record(instance)

        def proceed() -> None:
            self._begin_detach(backend, volume, instance, device, rec)

        force = call.params.get("Force", "").lower() == "true"
        if not self.busy.hold(volume, instance, rec, force, proceed):
            proceed()
        return ec2xml.attachment("DetachVolume", volume.id, instance.id, device, "detaching",
                                 attachment.attach_time)

    def _begin_detach(self, backend, volume, instance, device: str, rec) -> None:
        volume.attachment.status = "detaching"
        instance.block_device_mapping[device].status = "detaching"
        began = time.monotonic()
        stall = self.cloud.faults.take("DetachVolume", ("stall",))

        def remove_device() -> None:
            if rec.runtime_up and rec.runtime is not None:
                rec.runtime.detach(Volume(volume.id, self.disks.volume(volume.id), device))
            remaining = max(0.0, self.cloud.profile.detach - (time.monotonic() - began))
            self.cloud.later(remaining, stall, lambda: backend.detach_volume(volume.id, instance.id, device))

        rec.worker.submit(self._guarded, remove_device)
