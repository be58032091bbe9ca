"""Runs state transitions later: each one a callback due at a time, in one thread.

A transition tied to a stall fault waits past its due time until the fault is cleared.
Callbacks run under the cloud's lock (the caller passes it) so they never race a request.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import Callable

from .faults import Fault, FaultBook

log = logging.getLogger("localcloud.scheduler")


class Scheduler:
    def __init__(self, lock: threading.RLock, faults: FaultBook) -> None:
        self._lock = lock
        self._faults = faults
        self._heap: list[tuple[float, int, Callable[[], None], Fault | None]] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="transitions", daemon=True)
        self._thread.start()

    def later(self, delay: float, callback: Callable[[], None], stall: Fault | None = None) -> None:
        with self._wake:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), callback, stall))
            self._wake.notify()

    def clear(self) -> None:
        with self._wake:
            self._heap.clear()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._wake.wait(timeout)
                if self._closed:
                    return
                due, seq, callback, stall = heapq.heappop(self._heap)
                if stall is not None and self._faults.stall_active(stall):
                    heapq.heappush(self._heap, (time.monotonic() + 0.2, seq, callback, stall))
                    continue
            try:
                with self._lock:
                    callback()
            except Exception:  # a failed transition must not stop the others
                log.exception("transition failed")
