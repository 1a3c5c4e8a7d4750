"""The latency model: time to first token, tokens per second, jitter; seeded, scalable.

Default is no delay at all. Delays are a schedule computed up front from a seed, so the
same request paces the same way every run."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Pacing:
    """`ttft` seconds before the first event; `tokens_per_second` for the rest (None: no
    delay); `jitter` a fraction (0.1 = ±10%) applied to every gap, seeded."""

    ttft: float = 0.0
    tokens_per_second: float | None = None
    jitter: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.ttft < 0 or self.jitter < 0 or self.jitter >= 1:
            raise ValueError("pacing needs ttft >= 0 and 0 <= jitter < 1")
        if self.tokens_per_second is not None and self.tokens_per_second <= 0:
            raise ValueError("tokens_per_second must be positive")

    @property
    def is_instant(self) -> bool:
        return self.ttft == 0 and self.tokens_per_second is None

    def pacer(self, seed: bytes, scale: float = 1.0) -> Pacer:
        return _INSTANT if self.is_instant else Pacer(self, seed, scale)


class Pacer:
    """Delays for one reply, handed out event by event as the stream is produced."""

    def __init__(self, pacing: Pacing, seed: bytes, scale: float) -> None:
        self._pacing = pacing
        self._rng = random.Random(seed + pacing.seed.to_bytes(8, "big", signed=True))
        self._scale = scale
        self._first = True
        self.instant = pacing.is_instant
        """No event waits (the default)."""

    def _jittered(self, seconds: float) -> float:
        jitter = self._pacing.jitter
        return seconds * (1 + self._rng.uniform(-jitter, jitter)) * self._scale

    def next(self, tokens: float) -> float:
        """Seconds to wait before an event carrying `tokens` output tokens: the first such
        event arrives after the time to first token, each later one after its tokens'
        time at `tokens_per_second`; events without tokens do not wait."""
        if tokens <= 0 or self._pacing.is_instant:
            return 0.0
        rate = self._pacing.tokens_per_second
        if self._first:
            self._first = False
            gap = self._pacing.ttft
        else:
            gap = tokens / rate if rate else 0.0
        return self._jittered(gap) if gap else 0.0

    def total(self, output_tokens: int) -> float:
        """What a non-streaming reply waits: the time to first token, then its tokens."""
        if self._pacing.is_instant:
            return 0.0
        rate = self._pacing.tokens_per_second
        return self._jittered(self._pacing.ttft + (output_tokens / rate if rate else 0.0))


NO_DELAY = Pacing()
_INSTANT = Pacer(NO_DELAY, b"", 1.0)
