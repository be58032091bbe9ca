"""GetConsoleOutput as EC2 answers it: buffered output posted at transitions, Latest only on Nitro.

GetConsoleOutput API reference (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetConsoleOutput.html):
"By default, the console output returns buffered information that was posted shortly after an instance
transition state (start, stop, reboot, or terminate) … Only the most recent 64 KB of console output is
available. You can optionally retrieve the latest serial console output at any time during the instance
lifecycle. This option is supported on instance types that use the Nitro hypervisor."

So without Latest the answer is the output as of the instance's last `running` or `stopped`, posted
`console_lag` seconds after it (the profile's; "shortly" has no figure); with Latest it is the output so
far, and a Xen type answers UnsupportedOperation (the message is not documented: this one is ours).
The post after `running` holds what the boot printed by then: the OS boots only once the instance is
running (ec2.py), so it is taken `boot_post` seconds after the transition (or at `console_lag`, if later).
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from . import ec2xml
from .devices import is_nitro
from .errors import EC2Error

LIMIT = 64 * 1024
POSTED_AT = ("running", "stopped")


class ConsoleBook:
    def __init__(self, lag: float, later: Callable[[float, Callable[[], None]], None],
                 boot_post: float = 2.0) -> None:
        """`later(delay, callback)`: the cloud's scheduler, which posts a `running` console."""
        self.lag = lag
        self.later = later
        self.boot_post = boot_post
        self._lock = threading.Lock()
        self._posts: dict[str, list[tuple[float, int]]] = {}   # instance id -> [(time, console size)]

    def transition(self, instance_id: str, state: str, console: Path | None) -> None:
        """Called at every state change: `running` and `stopped` post the console (a `running`
        post as it is once the boot had time to print)."""
        if state not in POSTED_AT or console is None:
            return
        at = time.monotonic()

        def post() -> None:
            size = console.stat().st_size if console.exists() else 0
            with self._lock:
                self._posts.setdefault(instance_id, []).append((at, size))

        if state == "running":
            self.later(max(self.lag, self.boot_post), post)
        else:
            post()

    def output(self, instance, console: Path | None, latest: bool) -> bytes:
        if latest and not is_nitro(instance.instance_type):
            raise EC2Error("UnsupportedOperation",
                           f"Latest console output is supported only on instance types that use the Nitro "
                           f"hypervisor; {instance.instance_type} does not. Call GetConsoleOutput without Latest.")
        if console is None or not console.exists():
            return ec2xml.console_output(instance.id, b"")
        end = console.stat().st_size if latest else self._posted_size(instance.id)
        with open(console, "rb") as f:
            start = max(0, end - LIMIT)
            f.seek(start)
            text = f.read(end - start)
        return ec2xml.console_output(instance.id, text)

    def _posted_size(self, instance_id: str) -> int:
        now = time.monotonic()
        with self._lock:
            posted = sorted((at, size) for at, size in self._posts.get(instance_id, []) if at + self.lag <= now)
        return posted[-1][1] if posted else 0
