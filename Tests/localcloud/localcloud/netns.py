"""Network namespaces for namespace instances, and sockets made inside them.

Each instance gets a named network namespace, `lc<cloud port>-<instance id>` (so
`scripts/localcloud stop` can find a dead cloud's leftovers by its port), holding only
`lo` and `eth0` with the instance's private address (a veth whose peer `vpc0` is in the
same namespace: nothing leaves it, there is no default route). The cloud reaches into
it without any routing: a socket belongs for its whole life to the namespace its
creator was in, so a short-lived thread enters the namespace (setns(2)), makes the
socket, and leaves; the cloud's own threads then use it from the host's namespace.
"""
from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import threading
from typing import Callable, TypeVar

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
# The host's network namespace, opened while the cloud is still single-threaded: threads
# that serve an instance may sit in its namespace, and new threads inherit it.
HOST = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
PREFIX = "lc"


def name_for(cloud_port: int, instance_id: str) -> str:
    return f"{PREFIX}{cloud_port}-{instance_id}"


def path_of(name: str) -> str:
    return f"/run/netns/{name}"


def _ip(*args: str, stdin: str | None = None) -> None:
    proc = subprocess.run(["ip", *args], input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {proc.stderr.strip()}")


def create(name: str, address: str | None) -> None:
    """The namespace with `lo` up and, given `address` (e.g. 172.31.5.9/20), an `eth0` holding it."""
    delete(name)
    _ip("netns", "add", name)
    batch = ["link set lo up"]
    if address:
        batch += ["link add eth0 type veth peer name vpc0", f"addr add {address} dev eth0",
                  "link set vpc0 up", "link set eth0 up"]
    try:
        _ip("-n", name, "-batch", "-", stdin="\n".join(batch) + "\n")
    except RuntimeError:
        delete(name)
        raise


def add_local_address(name: str, cidr: str) -> None:
    """An address on the namespace's `lo` (IMDS's link-local 169.254.169.254, imds.py)."""
    _ip("-n", name, "addr", "add", cidr, "dev", "lo")


def delete(name: str) -> None:
    if os.path.exists(path_of(name)):
        subprocess.run(["ip", "netns", "delete", name], capture_output=True)


def enter(netns: str | int) -> None:
    """Moves the calling thread into `netns` (a /run/netns path, or an open fd)."""
    fd = netns if isinstance(netns, int) else os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({netns}): {os.strerror(err)}")
    finally:
        if fd is not netns:
            os.close(fd)


def call_in(netns: str | int, fn: Callable[[], T]) -> T:
    """fn() in a thread that entered `netns` (a /run/netns path, or an open fd) first."""
    box: dict = {}

    def body() -> None:
        try:
            enter(netns)
            box["value"] = fn()
        except BaseException as e:   # handed to the caller's thread
            box["error"] = e

    thread = threading.Thread(target=body, name="netns")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def listener(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    return sock


def close_listener(sock: socket.socket) -> None:
    """Closes a listening socket and wakes the thread blocked in its accept()."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def accept_loop(sock: socket.socket, handle: Callable[[socket.socket, tuple], None], name: str,
                netns: str | int = HOST) -> threading.Thread:
    """Accepts on `sock` until it is closed, handing each connection to `handle` in a thread
    that sits in `netns` (the host's unless told), as do the threads it starts."""

    def loop() -> None:
        enter(netns)
        while True:
            try:
                conn, addr = sock.accept()
            except OSError:
                return
            try:
                handle(conn, addr)
            except Exception:
                conn.close()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread
