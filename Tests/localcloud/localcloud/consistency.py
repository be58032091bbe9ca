"""Eventual consistency: a new id is not yet known to the calls that name it.

EC2 developer guide, "Eventual consistency in the Amazon EC2 API"
(https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html): "if you run a command to
modify or describe the resource that you just created, its ID might not have propagated throughout the
system, and you will get an error responding that the resource does not exist", e.g.
InvalidInstanceID.NotFound after RunInstances, InvalidGroup.NotFound after CreateSecurityGroup.

For the profile's `settle` seconds (or a `lag` fault's `seconds`) after RunInstances,
CreateSecurityGroup, CreateVolume and CreateSnapshot, the Describe call of that kind naming the new id,
and RunInstances naming the new group, answer NotFound. The guide gives no duration.
"""
from __future__ import annotations

import re
import threading
import time

from .calls import Call
from .errors import EC2Error

# creating action -> the ids its answer names (those of the resources it created)
CREATED = {
    "RunInstances": re.compile(r"<instanceId>(i-[0-9a-f]+)</instanceId>"),
    "CreateSecurityGroup": re.compile(r"<groupId>(sg-[0-9a-f]+)</groupId>"),
    "CreateVolume": re.compile(r"<volumeId>(vol-[0-9a-f]+)</volumeId>"),
    "CreateSnapshot": re.compile(r"<snapshotId>(snap-[0-9a-f]+)</snapshotId>"),
}
# action -> (parameter names that carry ids, error code, message); messages as EC2 words them.
NAMING = {
    "DescribeInstances": (re.compile(r"InstanceId\.\d+"), "InvalidInstanceID.NotFound",
                          "The instance ID '{}' does not exist"),
    "DescribeSecurityGroups": (re.compile(r"GroupId\.\d+"), "InvalidGroup.NotFound",
                               "The security group '{}' does not exist"),
    "DescribeVolumes": (re.compile(r"VolumeId\.\d+"), "InvalidVolume.NotFound", "The volume '{}' does not exist."),
    "DescribeSnapshots": (re.compile(r"SnapshotId\.\d+"), "InvalidSnapshot.NotFound",
                          "The snapshot '{}' does not exist."),
    "RunInstances": (re.compile(r"(?:NetworkInterface\.\d+\.)?SecurityGroupId\.\d+"), "InvalidGroup.NotFound",
                     "The security group '{}' does not exist"),
}


class Visibility:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._visible_at: dict[str, float] = {}

    def created(self, call: Call, payload: bytes, seconds: float) -> None:
        """Hides the ids a creating call's answer names for `seconds`."""
        pattern = CREATED.get(call.action)
        if pattern is None or seconds <= 0:
            return
        ids = set(pattern.findall(payload.decode("utf-8", "replace")))
        until = time.monotonic() + seconds
        with self._lock:
            for new_id in ids:
                self._visible_at[new_id] = until

    def check(self, call: Call) -> None:
        """Raises NotFound if the call names an id that has not propagated yet."""
        naming = NAMING.get(call.action)
        if naming is None or not self._visible_at:
            return
        names, code, message = naming
        now = time.monotonic()
        with self._lock:
            for gone in [i for i, t in self._visible_at.items() if t <= now]:
                del self._visible_at[gone]
            hidden = [v for k, v in sorted(call.params.items()) if names.fullmatch(k) and v in self._visible_at]
        if hidden:
            raise EC2Error(code, message.format(hidden[0]))
