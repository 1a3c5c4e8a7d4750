"""Paced delivery of a `WireResponse`, for every adapter: the wait before answering, then
each chunk on an absolute schedule (the time spent sending does not add up as drift), one
frame a write, honouring the client's read timeout. A stream that waits on the network (a
recording) is pulled on a worker thread chunk by chunk, so it never stalls the event loop.

Adapters map the outcomes to their own terms: `ReadTimedOut` (a wait outlasted the read
timeout), `StreamBreak` (cut the connection mid-body) and `WireResponse.drop`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import anyio
import anyio.to_thread

from ..core.wire import Chunk, WireResponse


class ReadTimedOut(Exception):
    """A wait outlasted the client's read timeout: the client times out after it."""


def wait_to_answer(result: WireResponse, read_timeout: float | None) -> None:
    """Sleep the response's `delay` (or the read timeout, then raise `ReadTimedOut`)."""
    if read_timeout is not None and result.delay > read_timeout:
        time.sleep(read_timeout)
        raise ReadTimedOut
    if result.delay:
        time.sleep(result.delay)


async def await_answer(result: WireResponse, read_timeout: float | None = None) -> None:
    """`wait_to_answer` for the event loop."""
    if read_timeout is not None and result.delay > read_timeout:
        await anyio.sleep(read_timeout)
        raise ReadTimedOut
    if result.delay:
        await anyio.sleep(result.delay)


def body(result: WireResponse, read_timeout: float | None = None) -> Iterator[bytes]:
    """The body's chunks, each when it is due (sleeping in this thread)."""
    due = time.monotonic()
    for delay, chunk in result.iter_chunks():
        if read_timeout is not None and delay > read_timeout:
            time.sleep(read_timeout)
            raise ReadTimedOut
        if delay:
            due += delay
            time.sleep(max(0.0, due - time.monotonic()))
        yield chunk


async def abody(result: WireResponse, read_timeout: float | None = None) -> AsyncIterator[bytes]:
    """The body's chunks, each when it is due (sleeping on the event loop)."""
    due = anyio.current_time()
    async for delay, chunk in _chunks(result):
        if read_timeout is not None and delay > read_timeout:
            await anyio.sleep(read_timeout)
            raise ReadTimedOut
        if delay:
            due += delay
            await anyio.sleep(max(0.0, due - anyio.current_time()))
        yield chunk


async def _chunks(result: WireResponse) -> AsyncIterator[Chunk]:
    stream = result.iter_chunks()
    if not result.blocking:
        for chunk in stream:
            yield chunk
        return
    done = object()
    try:
        while True:
            item = await anyio.to_thread.run_sync(next, stream, done)
            if item is done:
                return
            yield item  # type: ignore[misc]
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            await anyio.to_thread.run_sync(close)
