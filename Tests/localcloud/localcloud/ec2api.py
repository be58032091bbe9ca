"""EC2's API-level rules around moto, in one place for cloud.py to call.

before(): the checks a request meets before anything happens (the deny-untagged policy, the zone's
offerings, Spot options, ids not yet propagated, a repeated ClientToken); after(): what a successful
creating call leaves behind (its token's first result, its new ids' settle time, network-interface tags,
Spot requests). control(): /_localcloud/offerings and /_localcloud/spot/*.
"""
from __future__ import annotations

import re
from typing import Callable

from . import moto_patches, spot, tagpolicy
from .calls import Call
from .consistency import CREATED, Visibility
from .console import ConsoleBook
from .idempotency import IdempotencyBook
from .offerings import Offerings

_INSTANCE_ID = re.compile(r"<instanceId>(i-[0-9a-f]+)</instanceId>")
CONTROL = ("offerings", "spot/interrupt", "spot/restore")


class ApiRules:
    def __init__(self, cloud) -> None:
        self.cloud = cloud
        self.tokens = IdempotencyBook()
        self.visibility = Visibility()
        self.offerings = Offerings()
        self.console = ConsoleBook(cloud.profile.console_lag, lambda delay, post: cloud.later(delay, None, post))
        moto_patches.on_state_change(self._state_changed)

    def _state_changed(self, instance, state: str) -> None:
        rec = self.cloud.ec2.records.get(instance.id)
        self.console.transition(instance.id, state, rec.console if rec is not None else None)

    def before(self, backend, call: Call, describe: Callable[[str], str]) -> bytes | None:
        """Raises EC2Error for a request EC2 refuses; an answer for a repeated ClientToken; else None."""
        tagpolicy.check(self.cloud.faults, call)
        self.offerings.check_launch(backend, call)
        spot.check_launch(call)
        self.visibility.check(call)
        return self.tokens.replay(backend, call, describe)

    def after(self, backend, call: Call, payload: bytes) -> None:
        """After moto answered a call successfully."""
        self.tokens.remember(call, payload)
        if call.action in CREATED:
            lag = self.cloud.faults.take(call.action, ("lag",))
            self.visibility.created(call, payload, lag.seconds if lag is not None else self.cloud.profile.settle)
        if call.action == "RunInstances":
            ids = _INSTANCE_ID.findall(payload.decode("utf-8", "replace"))
            tagpolicy.tag_network_interfaces(backend, call, ids)
            spot.record_requests(backend, call, ids)

    def control(self, backend_for: Callable[[str], object], method: str, what: str, spec: dict) -> tuple[str, object]:
        """(HTTP status, JSON answer) of a control endpoint; ValueError for bad input."""
        region = str(spec.get("region") or "us-east-1")
        if what == "offerings" and method == "POST":
            return "201 Created", self.offerings.set_zone(backend_for(region), spec)
        if what == "offerings" and method == "DELETE":
            self.offerings.restore()
            return "200 OK", {"restored": True}
        if what.startswith("spot/") and method == "POST":
            instance_id = spec.get("instance_id")
            if not isinstance(instance_id, str) or not instance_id:
                raise ValueError('instance_id is required, e.g. {"instance_id": "i-0123…", "region": "us-east-1"}')
            act = spot.interrupt if what == "spot/interrupt" else spot.restore
            return "200 OK", act(self.cloud.ec2, backend_for(region), instance_id)
        return "404 Not Found", {"error": f"no control endpoint {method} /_localcloud/{what}"}
