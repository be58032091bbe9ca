"""Corrections to moto's instance model, applied once at import.

- A new instance is `pending`, not `running` (the cloud moves it on after the profile's time).
- Its root volume is at the AMI's root device name (moto puts it at /dev/sda1 always) and
  remembers the AMI's snapshot, so the cloud can give it a copy of the AMI's image.
- Every change of an instance's state is logged with its wall-clock time (GET
  /_localcloud/transitions), so a benchmark can measure downtime without polling, and told to
  the listeners added with `on_state_change` (console.py posts the console output at transitions).
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from moto.ec2.models.instances import Instance, InstanceState

_original_init = Instance.__init__
_original_setattr = Instance.__setattr__
_transitions: list[dict] = []
_transitions_lock = threading.Lock()
_listeners: list[Callable[[object, str], None]] = []


def on_state_change(listener: Callable[[object, str], None]) -> None:
    """listener(instance, new state name) after every change of an instance's state."""
    _listeners.append(listener)


def transitions() -> list[dict]:
    """[{time, instance_id, state}] in order, one entry per change of state."""
    with _transitions_lock:
        return [dict(t) for t in _transitions]


def _log_state(instance) -> None:
    state = instance.__dict__.get("_state")
    if state is None or not instance.__dict__.get("_log_states"):
        return   # moto's __init__ sets `running` before the patch below makes it `pending`
    with _transitions_lock:
        last = next((t for t in reversed(_transitions) if t["instance_id"] == instance.id), None)
        if last is None or last["state"] != state.name:
            _transitions.append({"time": time.time(), "instance_id": instance.id, "state": state.name})
        else:
            return
    for listener in list(_listeners):
        listener(instance, state.name)


def _setattr(self, name: str, value) -> None:
    _original_setattr(self, name, value)
    if name == "_state":
        _log_state(self)


def _logging(method):
    """moto's stop() and terminate() change the state object in place, not the attribute."""
    def wrapper(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        _log_state(self)
        return result
    return wrapper


def _init(self, *args, **kwargs) -> None:
    _original_init(self, *args, **kwargs)
    self.__dict__["_log_states"] = True
    self._state = InstanceState("pending", 0)


def _setup_defaults(self) -> None:
    ami = self.ec2_backend.amis.get(self.image_id)
    snapshot = getattr(ami, "ebs_snapshot", None)
    volume = self.ec2_backend.create_volume(size=8, zone_name=self._placement.zone,
                                            snapshot_id=snapshot.id if snapshot else None)
    self.ec2_backend.attach_volume(volume.id, self.id, self.root_device_name, True)


Instance.__init__ = _init
Instance.__setattr__ = _setattr
Instance.stop = _logging(Instance.stop)
Instance.terminate = _logging(Instance.terminate)
Instance.setup_defaults = _setup_defaults
