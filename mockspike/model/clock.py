"""Time for rate limits and cache lifetimes, injectable so tests drive it instead of sleeping;
and time as the API writes it (`rfc3339`)."""

from __future__ import annotations

import functools
import math
import threading
import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class FakeClock:
    """A clock that moves only when told: `advance(seconds)`, or `sleep(seconds)` — which
    can stand in for `time.sleep` so a client's retry wait moves the fake's time instead of
    the test's."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go back")
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        self.advance(max(seconds, 0.0))


def rfc3339(timestamp: float) -> str:
    """`timestamp` (seconds since the epoch) as the API writes times, rounded up to the
    second: `2026-08-12T10:00:00Z`."""
    return _rfc3339(math.ceil(timestamp))


@functools.lru_cache(maxsize=1024)
def _rfc3339(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
