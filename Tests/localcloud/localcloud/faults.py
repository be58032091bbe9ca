"""Injected faults: per action, per count, one kind each.

Kinds: throttle (EC2 RequestLimitExceeded, S3 SlowDown, JSON ThrottlingException),
500, 503, capacity (EC2 InsufficientInstanceCapacity, a 500; elsewhere a plain 500), delay (seconds, then the call proceeds), drop (the connection is closed
without an answer), stall (the transition the call starts does not complete until
the fault is cleared), busy (DetachVolume, optionally of `volume_id` only: the attachment
stays `busy` until Force, a stop or a terminate; busy_detach.py), and the EC2 rules' kinds:
capacity-host, instance-limit, vcpu-limit (launch errors), lag (new ids stay invisible for
`seconds`, consistency.py), deny-untagged (`tag`, tagpolicy.py) and slow-boot (Run/StartInstances:
the instance's runtime starts `seconds` late, while it is `pending`; so a test can stop the cloud
while a boot is still to come). A fault fires on the next `count` calls of its action
(`"*"` matches every action) and then disappears.
"""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

KINDS = ("throttle", "500", "503", "capacity", "delay", "drop", "stall", "busy",
         "capacity-host", "instance-limit", "vcpu-limit", "lag", "deny-untagged", "slow-boot")
# Kinds that only make sense on some actions: a fault elsewhere would never fire.
ACTIONS_OF_KIND = {
    "capacity-host": ("RunInstances", "StartInstances"), "instance-limit": ("RunInstances", "StartInstances"),
    "vcpu-limit": ("RunInstances", "StartInstances"),
    "lag": ("RunInstances", "CreateSecurityGroup", "CreateVolume", "CreateSnapshot"),
    "busy": ("DetachVolume",),
    "slow-boot": ("RunInstances", "StartInstances"),
    "deny-untagged": ("RunInstances", "CreateSecurityGroup", "CreateSnapshot", "CreateVolume"),
}


@dataclass
class Fault:
    action: str
    kind: str
    count: int = 1
    seconds: float = 0.0      # for delay, lag and slow-boot
    tag: str = ""             # for deny-untagged: the tag key every created resource must carry
    volume_id: str | None = None   # for busy: only this volume's DetachVolume
    fired: int = 0


class FaultBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._stalled = threading.Condition(self._lock)

    def add(self, spec: dict) -> Fault:
        kind = str(spec.get("kind", ""))
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        action = spec.get("action")
        if not isinstance(action, str) or not action:
            raise ValueError("action is required (an API action name such as StopInstances, or *)")
        count = int(spec.get("count", 1))
        if count < 1:
            raise ValueError("count must be at least 1")
        allowed = ACTIONS_OF_KIND.get(kind)
        if allowed is not None and action not in allowed:
            raise ValueError(f"kind {kind} applies to {', '.join(allowed)}, not {action}")
        tag = str(spec.get("tag", ""))
        if kind == "deny-untagged" and not tag:
            raise ValueError("kind deny-untagged needs a tag (the key every created resource must carry)")
        volume_id = spec.get("volume_id")
        if volume_id is not None and not (isinstance(volume_id, str) and volume_id.startswith("vol-")):
            raise ValueError(f"volume_id must be a volume id (vol-…), got {volume_id!r}")
        fault = Fault(action=action, kind=kind, count=count, seconds=float(spec.get("seconds", 0)), tag=tag,
                      volume_id=volume_id)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, action: str, kinds: tuple[str, ...], volume_id: str | None = None) -> Fault | None:
        """The first pending fault of one of `kinds` for `action` (and, if the fault names one,
        for `volume_id`), counted as fired."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.action in (action, "*") and fault.fired < fault.count \
                        and fault.volume_id in (None, volume_id):
                    fault.fired += 1
                    return fault
        return None

    def stall_active(self, fault: Fault) -> bool:
        with self._lock:
            return any(f is fault for f in self._faults)

    def list(self) -> list[dict]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def clear(self) -> None:
        """Removes every fault; stalled transitions then complete."""
        with self._lock:
            self._faults.clear()
