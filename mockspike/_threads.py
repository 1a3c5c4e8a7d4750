"""Worker-thread pools of a fixed size, one per event loop."""

from __future__ import annotations

import anyio
from anyio.lowlevel import RunVar


class LoopThreads:
    """A capacity limiter for `anyio.to_thread.run_sync`, made on first use in each event
    loop (a limiter belongs to the loop it was made in)."""

    def __init__(self, name: str, size: int) -> None:
        self._var: RunVar[anyio.CapacityLimiter] = RunVar(name)
        self.size = size

    def limiter(self) -> anyio.CapacityLimiter:
        try:
            return self._var.get()
        except LookupError:
            limiter = anyio.CapacityLimiter(self.size)
            self._var.set(limiter)
            return limiter
