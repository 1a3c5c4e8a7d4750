"""Worker threads for streams that wait on the network (recordings in progress).

They have their own pool, apart from anyio's default one (40 threads) that runs
`Engine.handle_async`. Requests queued there for a recording slot can then never starve
the recordings that hold the slots of the threads they need to finish: with one shared
pool, a record-through proxy wedged for good once slots plus waiters passed its size."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar

from ..core.wire import Chunk

STREAM_THREADS = 256
"""Threads pulling blocking streams at once, per event loop."""

_limiter: RunVar[anyio.CapacityLimiter] = RunVar("mockspike_stream_threads")


def stream_threads() -> anyio.CapacityLimiter:
    """This event loop's limiter for blocking stream pulls."""
    try:
        return _limiter.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(STREAM_THREADS)
        _limiter.set(limiter)
        return limiter


async def pull(stream: Iterator[Chunk]) -> AsyncIterator[Chunk]:
    """Pull a blocking stream on a worker thread, chunk by chunk, so a slow upstream never
    stalls the event loop; closing it closes the upstream."""
    done = object()
    limiter = stream_threads()
    try:
        while True:
            chunk = await anyio.to_thread.run_sync(next, stream, done, limiter=limiter)
            if chunk is done:
                return
            yield chunk  # type: ignore[misc]
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            await anyio.to_thread.run_sync(close, limiter=limiter)
