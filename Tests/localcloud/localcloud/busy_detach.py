"""DetachVolume of a volume whose filesystem is still mounted inside its running instance.

EC2 API reference, DetachVolume: "Make sure to unmount any file systems on the device within
your operating system before detaching the volume. Failure to do so can result in the volume
becoming stuck in the busy state while detaching. If this happens, detachment can be delayed
indefinitely until you unmount the volume, force detachment, reboot the instance, or all three."

Here: the DetachVolume call answers `detaching` as EC2 does (it only starts the detach); the
attachment then reads `busy` (the volume stays `in-use`; the instance's block device mapping
says `detaching`, the only states it has) until the instance unmounts it, stops or terminates,
or DetachVolume is called again with Force=true; only then does the detach proceed with the
profile's time. A `busy` fault (optionally for one volume) forces that state for the next
DetachVolume whatever is mounted; it lasts until Force, a stop or a terminate. A reboot is not
a way out here (the instance keeps running; what it mounts at boot is its own business).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import ec2xml
from .calls import Call


@dataclass
class Hold:
    volume: object
    instance: object
    rec: object
    forced: bool                    # by a fault: the unmount does not end it
    proceed: Callable[[], None]     # starts the detach (the device goes, mounts inside with it)


class BusyDetach:
    def __init__(self, ec2) -> None:
        self.ec2 = ec2
        self._held: dict[str, Hold] = {}

    def again(self, volume, call: Call) -> bytes | None:
        """DetachVolume of a volume already busy: Force ends it, anything else answers `busy` again."""
        hold = self._held.get(volume.id)
        if hold is None or volume.attachment is None or volume.attachment.status != "busy":
            self._held.pop(volume.id, None)
            return None
        if call.params.get("Force", "").lower() == "true":
            self._release(hold)
            status = "detaching"
        else:
            status = "busy"
        att = volume.attachment
        return ec2xml.attachment("DetachVolume", volume.id, hold.instance.id, att.device, status, att.attach_time)

    def hold(self, volume, instance, rec, force: bool, proceed: Callable[[], None]) -> bool:
        """True if this DetachVolume leaves the volume busy (then `proceed` runs later)."""
        if force or instance.state != "running":
            return False
        forced = self.ec2.cloud.faults.take("DetachVolume", ("busy",), volume_id=volume.id) is not None
        if not forced and not self._mounted(rec, volume.id):
            return False
        volume.attachment.status = "busy"
        instance.block_device_mapping[volume.attachment.device].status = "detaching"
        self._held[volume.id] = Hold(volume, instance, rec, forced, proceed)
        return True

    def poll(self, backend) -> None:
        """Called every half second with the cloud's lock: ends the holds whose reason went away."""
        for hold in list(self._held.values()):
            if hold.instance.ec2_backend is not backend:
                continue
            if hold.volume.attachment is None or hold.volume.attachment.status != "busy":
                self._held.pop(hold.volume.id, None)
            elif hold.instance.state != "running" or (not hold.forced and not self._mounted(hold.rec, hold.volume.id)):
                self._release(hold)

    def _release(self, hold: Hold) -> None:
        self._held.pop(hold.volume.id, None)
        hold.proceed()

    @staticmethod
    def _mounted(rec, volume_id: str) -> bool:
        runtime = rec.runtime if rec.runtime_up else None
        mounted = getattr(runtime, "holds_mounted", None)   # the vm runtime can't tell
        return bool(mounted and mounted(volume_id))
