"""The contract between the local cloud and the ways it runs an instance.

An instance that reaches `running` gets one InstanceRuntime. Two kinds exist:
`namespace` (user-data executed in private mount/PID namespaces with the root volume as /)
and `vm` (QEMU booting the root volume, volumes hot-plugged as NVMe with the volume id as serial).
The cloud's state machine calls these methods; they never touch EC2 state themselves.
"""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol


@dataclass(frozen=True)
class Volume:
    volume_id: str          # vol-0abc…
    image: Path             # backing image file
    device_name: str        # as attached in EC2: /dev/sda1, /dev/xvda, /dev/sdf …


@dataclass(frozen=True)
class NetworkSpec:
    """The instance's own network namespace (namespace runtime; see instance_network.py)."""
    name: str                       # the namespace's name (netns.name_for)
    address: str | None             # the instance's private IPv4 with its subnet's prefix, 172.31.5.9/20
    cloud_port: int                 # the cloud's port: 127.0.0.1:PORT inside answers as the cloud
    serve: Callable[[socket.socket, tuple], None]   # hands a connection made inside to the cloud
    imds: Callable[[socket.socket, tuple], None] | None = None   # 169.254.169.254:80 inside (imds.py)


@dataclass(frozen=True)
class InstanceStoreDisk:
    """An instance-store volume: a sparse image in the instance's work directory, zeroed at every stop."""
    serial: str                     # the NVMe serial, AWS…
    image: Path
    size: int                       # bytes


@dataclass(frozen=True)
class LaunchSpec:
    instance_id: str
    root: Volume
    volumes: tuple[Volume, ...]     # attached at launch besides the root
    user_data: bytes | None
    console_log: Path               # everything the instance prints goes here (GetConsoleOutput)
    cloud_endpoint: str             # http://127.0.0.1:PORT, reachable from inside the instance
    nitro: bool = True              # Nitro: NVMe by-id links; Xen: /dev/xvdX names
    network: NetworkSpec | None = None    # None: the host's network (vm, or no cloud port)
    instance_store: tuple[InstanceStoreDisk, ...] = ()


class InstanceRuntime(Protocol):
    def start(self, spec: LaunchSpec) -> None: ...
    def attach(self, volume: Volume) -> None: ...
    def detach(self, volume: Volume) -> None: ...
    def stop(self, force: bool = False) -> None: ...
    def is_running(self) -> bool:
        """False once the instance has shut itself down (poweroff/shutdown in the guest)."""
        ...
    def ssh_endpoint(self) -> tuple[str, int] | None:
        """Where the instance's port 22 can be reached from the host, if anywhere."""
        ...


# How the cloud makes a runtime for `--instances KIND`: a callable taking the instance's
# private work directory (a Path under the cloud's state dir, holding console.log) and
# returning a fresh InstanceRuntime. The cloud makes a new one for every boot.
def runtime_factory(kind: str):
    if kind == "namespace":
        from .namespace import NamespaceRuntime
        return NamespaceRuntime
    if kind == "vm":
        from .vm import VMRuntime
        return VMRuntime
    raise ValueError(f"unknown instance runtime {kind!r}: use namespace or vm")


class RuntimeRegistry:
    """Every runtime the cloud made, and the moment it makes no more: its shutdown.

    A boot runs on its instance's worker thread while requests, timers (Auto Scaling's
    replacements, Spot restores) and the shutdown run on others, so a boot can reach its start
    after the shutdown began. The shutdown closes the registry first: a boot that got a runtime
    before that is one the shutdown stops (it joins the workers, then stops every runtime made);
    a boot after it gets none and starts nothing."""

    def __init__(self, factory) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._made: list[InstanceRuntime] = []
        self._closed = threading.Event()

    def new(self, workdir: Path) -> InstanceRuntime | None:
        with self._lock:
            if self._closed.is_set():
                return None
            runtime = self._factory(workdir)
            self._made.append(runtime)
            return runtime

    def close(self) -> list[InstanceRuntime]:
        """No runtime is made from now on; returns every one made before."""
        with self._lock:
            self._closed.set()
            return list(self._made)

    def wait_closed(self, seconds: float) -> bool:
        """Sleeps `seconds` unless the registry closes first (True then)."""
        return self._closed.wait(seconds)
