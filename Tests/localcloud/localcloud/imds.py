"""The instance metadata service, as far as EC2 Instance Connect needs it, inside each instance.

IMDS is link-local (169.254.169.254, "Access instance metadata for an EC2 instance",
https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html): it
answers whatever the VPC's routes, so it is not behind the cloud's gateway. The cloud puts
169.254.169.254/32 on the instance namespace's `lo` and listens on port 80 there
(instance_network.py); each connection is answered here for the instance it belongs to.

Served: PUT /latest/api/token (IMDSv2 session token), GET /latest/meta-data/instance-id and
GET /latest/meta-data/managed-ssh-keys/active-keys/USER/ (the keys SendSSHPublicKey pushed
for USER in the last 60 s, one per line; 404 when there are none, as the real service).
IMDSv1 requests (without a token) are answered too, the default of instances launched with
HttpTokens optional. Everything else answers 404.
"""
from __future__ import annotations

import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Callable

ADDRESS = "169.254.169.254"
PORT = 80
KEYS_PREFIX = "/latest/meta-data/managed-ssh-keys/active-keys/"


class _Server:
    """What BaseHTTPRequestHandler wants of a server (nothing but a name)."""
    server_name = ADDRESS


class Metadata:
    """One instance's IMDS: `keys(user)` gives the active Instance Connect keys."""

    def __init__(self, instance_id: str, keys: Callable[[str], list[str]]) -> None:
        self.instance_id = instance_id
        self.keys = keys
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def new_token(self, ttl: int) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.time() + ttl
        return token

    def token_valid(self, token: str) -> bool:
        with self._lock:
            return self._tokens.get(token, 0) > time.time()

    def serve(self, conn: socket.socket, addr: tuple) -> None:
        """A connection made inside the instance to 169.254.169.254:80 (in a thread of its own)."""
        threading.Thread(target=self._serve, args=(conn, addr), daemon=True).start()

    def _serve(self, conn: socket.socket, addr: tuple) -> None:
        metadata = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:   # the cloud's log is for API calls
                pass

            def _send(self, status: int, text: str, headers: dict | None = None) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self) -> None:
                ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
                if self.path != "/latest/api/token" or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                    self._send(400, "")
                    return
                self._send(200, metadata.new_token(int(ttl)), {"X-aws-ec2-metadata-token-ttl-seconds": ttl})

            def do_GET(self) -> None:
                token = self.headers.get("X-aws-ec2-metadata-token")
                if token is not None and not metadata.token_valid(token):
                    self._send(401, "")
                    return
                if self.path == "/latest/meta-data/instance-id":
                    self._send(200, metadata.instance_id)
                elif self.path.startswith(KEYS_PREFIX) and self.path.endswith("/"):
                    keys = metadata.keys(self.path[len(KEYS_PREFIX):-1])
                    self._send(200, "\n".join(keys) + "\n") if keys else self._send(404, "")
                else:
                    self._send(404, "")

        try:
            Handler(conn, addr, _Server())
        except OSError:
            pass
        finally:
            conn.close()
