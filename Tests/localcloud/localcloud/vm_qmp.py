"""A minimal QMP client (QEMU Machine Protocol: JSON lines over a unix socket).

One connection per operation: QEMU's QMP socket serves one client at a time, and events (such as
DEVICE_DELETED) reach the client that is connected when they happen, so an operation that waits for
an event keeps its connection open until then.
"""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path


class QMPError(Exception):
    """QEMU answered a command with an error."""


class QMP:
    def __init__(self, path: Path, timeout: float = 10.0):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._sock.connect(str(path))
        self._buf = b""
        self.events: list[dict] = []
        self._read()                                   # greeting
        self.command("qmp_capabilities")

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> "QMP":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _read(self) -> dict:
        while b"\n" not in self._buf:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError("QMP connection closed by QEMU")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def command(self, name: str, **arguments) -> object:
        message = {"execute": name}
        if arguments:
            message["arguments"] = arguments
        self._sock.sendall(json.dumps(message).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply:
                raise QMPError(f"{name}: {reply['error'].get('desc', reply['error'])}")
            elif "return" in reply:
                return reply["return"]

    def wait_event(self, name: str, timeout: float, **data) -> dict:
        """The first event `name` whose data contains `data`, seen since the connection opened."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["event"] == name and all(event.get("data", {}).get(k) == v for k, v in data.items()):
                    self.events.remove(event)
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no QMP event {name} {data or ''} within {timeout:.0f} s")
            previous = self._sock.gettimeout()
            self._sock.settimeout(remaining)
            try:
                self.events.append(self._read())
            except socket.timeout:
                continue
            finally:
                self._sock.settimeout(previous)
