"""EC2's request throttling as token buckets, one per action and region (the `realistic` profile).

EC2 evaluates each API on its own: every request takes a token from that API's bucket, which
refills at a fixed rate; an empty bucket answers RequestLimitExceeded. The EC2 developer guide
("Request throttling for the Amazon EC2 API") gives DescribeHosts, a non-mutating action, a
bucket of 100 tokens refilled at 20 per second; that is used for every non-mutating action
(Describe*, Get*). For mutating actions the bench assumes 50 tokens and 5 per second, no larger
than any bucket the guide lists, so a client that stays under these stays under EC2's.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

NON_MUTATING = (100.0, 20.0)
MUTATING = (50.0, 5.0)


def bucket_shape(action: str) -> tuple[float, float]:
    """(capacity, refill per second) of an action's bucket."""
    return NON_MUTATING if action.startswith(("Describe", "Get")) else MUTATING


@dataclass
class _Bucket:
    capacity: float
    refill: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.refill)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RequestLimits:
    """Decides whether an EC2 request is within its action's bucket (thread-safe)."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def admit(self, region: str, action: str) -> bool:
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get((region, action))
            if bucket is None:
                capacity, refill = bucket_shape(action)
                bucket = self._buckets[(region, action)] = _Bucket(capacity, refill, capacity, now)
            return bucket.take(now)
