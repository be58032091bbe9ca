"""ClientToken idempotency of RunInstances and CreateVolume.

EC2 API reference, "Ensuring idempotency in Amazon EC2 API requests"
(https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html) and "Error codes for the
Amazon EC2 API": a request repeated with the same client token returns the first request's result
and launches nothing; "IdempotentParameterMismatch: The request uses the same client token as a
previous, but non-identical request." Tokens are scoped to the account and region, as on EC2.

The first result of RunInstances is re-described (the instances as they are now, as EC2 answers a
repeat); that of CreateVolume is the first answer again, with a new request id.
"""
from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from typing import Callable

from .calls import Call
from .errors import EC2Error

ACTIONS = ("RunInstances", "CreateVolume")
# Parameters that do not make two requests different: the envelope, the token itself, DryRun.
_NOT_PARAMETERS = {"Action", "Version", "ClientToken", "DryRun"}
_REQUEST_ID = re.compile(r"<requestId>[^<]*</requestId>")
_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"


def fingerprint(params: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in params.items() if k not in _NOT_PARAMETERS))


@dataclass
class FirstResult:
    parameters: tuple[tuple[str, str], ...]
    payload: bytes


class IdempotencyBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first: dict[tuple[str, str, str], FirstResult] = {}

    @staticmethod
    def _key(call: Call) -> tuple[str, str, str] | None:
        token = call.params.get("ClientToken")
        if call.action not in ACTIONS or not token or call.params.get("DryRun", "").lower() == "true":
            return None
        return (call.region, call.action, token)

    def replay(self, backend, call: Call, describe: Callable[[str], str]) -> bytes | None:
        """The answer to a repeated request (None if the token is new); raises on a mismatch."""
        key = self._key(call)
        if key is None:
            return None
        with self._lock:
            first = self._first.get(key)
        if first is None:
            return None
        if first.parameters != fingerprint(call.params):
            raise EC2Error("IdempotentParameterMismatch",
                           f"Client token '{key[2]}' was used before with different parameters: "
                           "send a new client token with the changed request, or the earlier request unchanged.")
        if call.action == "RunInstances":
            again = _run_instances_now(backend, key[2], describe)
            if again is not None:
                return again
        return _REQUEST_ID.sub(f"<requestId>{uuid.uuid4()}</requestId>", first.payload.decode(), count=1).encode()

    def remember(self, call: Call, payload: bytes) -> None:
        key = self._key(call)
        if key is not None:
            with self._lock:
                self._first.setdefault(key, FirstResult(fingerprint(call.params), payload))


def _run_instances_now(backend, token: str, describe: Callable[[str], str]) -> bytes | None:
    ids = [i.id for i in backend.all_instances() if i.client_token == token]
    if not ids:
        return None
    query = "Action=DescribeInstances&Version=2016-11-15&" + "&".join(
        f"InstanceId.{n}={iid}" for n, iid in enumerate(ids, 1))
    match = re.search(r"<reservationSet><item>(.*)</item></reservationSet>", describe(query), re.S)
    if match is None:
        return None
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<RunInstancesResponse xmlns="{_NS}">'
            f"<requestId>{uuid.uuid4()}</requestId>{match.group(1)}</RunInstancesResponse>").encode()
