"""The cloud's endpoint as seen from inside an instance: it answers only what the VPC would carry.

Connections an instance makes to 127.0.0.1:PORT in its own namespace are handed to the
cloud's HTTP server with the instance they came from (instance_network.py). Every request
on them is judged when it arrives (routes can change while the instance runs) by
reachability.py; a refused one is never answered, never logged as a call, and its
connection is closed after the profile's `unreachable` delay, as a blackholed connection
fails a client. Requests from the host (tests, the controller) are not judged.
"""
from __future__ import annotations

import logging
import socket
import struct
import threading
import time
import weakref

from . import netns
from .account import ec2_backend
from .calls import Call
from .imds import Metadata
from .reachability import refusal
from .runtime import NetworkSpec
from .vpc_bpa import BlockPublicAccess

log = logging.getLogger("localcloud.gateway")


class Gateway:
    def __init__(self, cloud) -> None:
        self.cloud = cloud
        self.bpa = BlockPublicAccess()
        self._origins: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._server = None

    def attach_server(self, server) -> None:
        """The HTTP server (a socketserver) that serves connections made inside instances too."""
        self._server = server

    def network_for(self, instance) -> NetworkSpec | None:
        """The namespace an instance runs in: its private address, the cloud's port inside."""
        port = int(self.cloud.endpoint.rsplit(":", 1)[1]) if self.cloud.endpoint.count(":") == 2 else 0
        if not port:
            return None
        region, instance_id = instance.region_name, instance.id
        address = None
        try:
            subnet = instance.ec2_backend.get_subnet(instance.subnet_id)
            address = f"{instance.private_ip}/{subnet.cidr_block.split('/')[1]}"
        except Exception:   # no subnet (EC2-Classic in moto): no eth0
            pass

        def serve(conn: socket.socket, addr: tuple) -> None:
            if self._server is None:
                conn.close()
                return
            with self._lock:
                self._origins[conn] = (region, instance_id)
            self._server.process_request(conn, addr)

        metadata = Metadata(instance_id, lambda user: self.cloud.instance_connect.active_keys(instance_id, user))
        return NetworkSpec(name=netns.name_for(port, instance_id), address=address, cloud_port=port, serve=serve,
                           imds=metadata.serve)

    def origin(self, environ) -> tuple[str, str] | None:
        sock = environ.get("werkzeug.socket")
        if sock is None:
            return None
        with self._lock:
            return self._origins.get(sock)

    def refused(self, environ, call: Call) -> str | None:
        """Why the instance this request comes from can't reach the endpoint; None if it can."""
        origin = self.origin(environ)
        if origin is None:
            return None
        region, instance_id = origin
        with self.cloud.lock:
            backend = ec2_backend(region)
            instance = next((i for i in backend.all_instances() if i.id == instance_id), None)
            if instance is None:
                return None
            return refusal(backend, instance, call.service, self.bpa.mode(region))

    def blackhole(self, environ, reason: str):
        """Waits `unreachable` seconds, then closes the connection without a word. Raises
        ConnectionAbortedError: the HTTP server then drops the connection quietly."""
        log.info("unreachable from inside: %s", reason)
        time.sleep(self.cloud.profile.unreachable)
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionAbortedError(reason)
