"""A namespace instance's network: its own namespace, the cloud's endpoint inside it, its sshd outside.

- Inside, 127.0.0.1:PORT (the cloud's port, so presigned URLs work unchanged) is a socket the
  cloud listens on; each connection is handed to `serve` (the cloud's HTTP server), which knows
  the instance it came from and answers only what its VPC would carry (gateway.py).
- Inside, 169.254.169.254:80 is the instance's metadata service (imds.py), reached whatever the routes.
- The instance's sshd listens on port 22 in its namespace; 127.0.0.1:`ssh_port` on the host
  forwards there, opened only once sshd answers (a closed port until then, as on EC2 while
  an instance boots), and the same port at every boot.
No address is routed anywhere: every socket is on a loopback, in the host's namespace or the
instance's.
"""
from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

from . import imds, netns
from .runtime import NetworkSpec

log = logging.getLogger("localcloud.network")


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((sink, socket.SHUT_WR), (source, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                pass


def _relay(outer: socket.socket, inner: socket.socket) -> None:
    back = threading.Thread(target=_pump, args=(inner, outer), daemon=True)
    back.start()
    _pump(outer, inner)
    back.join()
    outer.close()
    inner.close()


class InstanceNetwork:
    def __init__(self, spec: NetworkSpec, ssh_port: int, forwarded: Path) -> None:
        self.spec = spec
        self.path = netns.path_of(spec.name)
        self.ssh_port = ssh_port
        self.forwarded = forwarded     # exists once the host port forwards (the instance waits for it)
        self._closed = threading.Event()
        self._listeners: list[socket.socket] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        """The namespace and the endpoint inside it: ready before the instance's first process."""
        self.forwarded.unlink(missing_ok=True)
        netns.create(self.spec.name, self.spec.address)
        endpoint = netns.call_in(self.path, lambda: netns.listener("127.0.0.1", self.spec.cloud_port))
        self._keep(endpoint)
        netns.accept_loop(endpoint, self.spec.serve, f"endpoint-{self.spec.name}")
        if self.spec.imds is not None:   # link-local: answers whatever the VPC routes (imds.py)
            netns.add_local_address(self.spec.name, f"{imds.ADDRESS}/32")
            metadata = netns.call_in(self.path, lambda: netns.listener(imds.ADDRESS, imds.PORT))
            self._keep(metadata)
            netns.accept_loop(metadata, self.spec.imds, f"imds-{self.spec.name}")
        threading.Thread(target=self._forward_ssh, name=f"ssh-{self.spec.name}", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            listeners, self._listeners = self._listeners, []
        for sock in listeners:
            netns.close_listener(sock)
        netns.delete(self.spec.name)

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            if self._closed.is_set():
                netns.close_listener(sock)
                raise RuntimeError(f"{self.spec.name} is closed")
            self._listeners.append(sock)

    def _forward_ssh(self) -> None:
        """Waits in the instance's namespace for its sshd, then forwards the host port to it."""
        try:
            netns.enter(self.path)
        except OSError:
            return   # closed before it began
        while not self._sshd_answers():
            if self._closed.wait(0.1):
                return
        try:
            host = netns.call_in(netns.HOST, lambda: netns.listener("127.0.0.1", self.ssh_port))
            self._keep(host)
        except (OSError, RuntimeError) as e:
            log.warning("%s: no ssh forward on 127.0.0.1:%d: %s", self.spec.name, self.ssh_port, e)
            return
        netns.accept_loop(host, self._ssh_session, f"ssh-accept-{self.spec.name}", netns=self.path)
        self.forwarded.write_text(f"127.0.0.1:{self.ssh_port}\n")

    @staticmethod
    def _sshd_answers() -> bool:
        try:
            socket.create_connection(("127.0.0.1", 22), timeout=1).close()
            return True
        except OSError:
            return False

    @staticmethod
    def _ssh_session(conn: socket.socket, addr: tuple) -> None:
        # This thread is in the instance's namespace: the connection to its sshd is made there.
        try:
            inner = socket.create_connection(("127.0.0.1", 22), timeout=5)
        except OSError:
            conn.close()
            return
        inner.settimeout(None)
        threading.Thread(target=_relay, args=(conn, inner), daemon=True).start()

