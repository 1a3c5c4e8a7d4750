"""Paced delivery of a `WireResponse`, for every adapter: the wait before answering, then
each chunk on an absolute schedule (the time spent sending does not add up as drift),
honouring the client's read timeout. Chunks due at the same moment (no delay between them)
go out in one write, up to `MAX_WRITE` bytes: an unpaced stream of 2,000 frames is a few
writes, not 2,000; a paced stream still arrives event by event, since each paced event
waits before it is sent. A stream that waits on the network (a recording) is pulled on a
worker thread chunk by chunk and sent as it comes, so it never stalls the event loop (its
threads are a pool of their own, `stream_threads`); a fault's stream (`frame_by_frame`) is
sent one chunk a write, and a cut (`StreamBreak`) comes after every chunk before it was sent.

`send` (and `send_sync`) is the one place that decides how an answer goes out: wait its
`delay` (noting a client that hangs up or times out meanwhile), drop it, send it whole, or
stream it, cut where a fault cuts it. An adapter gives only its own terms, as an `Outlet`:
how to answer whole, how to stream, how to drop the connection, and the exceptions its
library raises for a cut and for a read timeout."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Protocol, TypeVar

import anyio
import anyio.to_thread

from mockspike._threads import LoopThreads
from mockspike.model.wire import Chunk, StreamBreak, WireResponse

MAX_WRITE = 64 * 1024
"""Coalesced chunks are sent once they reach this size."""

STREAM_THREADS = 256
"""Threads pulling blocking streams (recordings in progress) at once, per event loop."""

_stream_threads = LoopThreads("mockspike_stream_threads", STREAM_THREADS)


class ReadTimedOut(Exception):
    """A wait outlasted the client's read timeout: the client times out after it."""


def wait_to_answer(result: WireResponse, read_timeout: float | None) -> None:
    """Sleep the response's `delay` (or the read timeout, then raise `ReadTimedOut`)."""
    if read_timeout is not None and result.delay > read_timeout:
        time.sleep(read_timeout)
        gave_up(result)
        raise ReadTimedOut
    if result.delay:
        time.sleep(result.delay)


class ShuttingDown(Exception):
    """The server is stopping: a stall or a paced wait ends now (the connection drops)."""


_waiting: dict[int, set[anyio.Event]] = {}
"""The waits in progress, by the thread of their event loop (one per server)."""


async def _sleep(seconds: float) -> None:
    """`anyio.sleep`, unless the server in this thread stops first (`ShuttingDown`)."""
    if seconds <= 0:
        return
    woken = anyio.Event()
    waits = _waiting.setdefault(threading.get_ident(), set())
    waits.add(woken)
    try:
        with anyio.move_on_after(seconds):
            await woken.wait()
    finally:
        waits.discard(woken)
    if woken.is_set():
        raise ShuttingDown


def stop_waiting() -> None:
    """End every wait of the event loop in this thread (a server shutting down), so a
    stalled request never holds a shutdown."""
    for woken in list(_waiting.get(threading.get_ident(), ())):
        woken.set()


async def await_answer(result: WireResponse, read_timeout: float | None = None) -> None:
    """`wait_to_answer` for the event loop."""
    if read_timeout is not None and result.delay > read_timeout:
        await _sleep(read_timeout)
        gave_up(result)
        raise ReadTimedOut
    if result.delay:
        await _sleep(result.delay)


class _Writes:
    """Chunks waiting to go out together: `add` says when they must be sent now."""

    def __init__(self, result: WireResponse) -> None:
        self.limit = 0 if result.frame_by_frame or result.blocking else MAX_WRITE
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> bool:
        self.parts.append(chunk)
        self.size += len(chunk)
        return self.size >= self.limit

    def take(self) -> bytes:
        data = self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)
        self.parts, self.size = [], 0
        return data


def gave_up(result: WireResponse) -> None:
    """Tell the journal the client left before the answer (see `WireResponse.abandoned`)."""
    if result.abandoned is not None:
        result.abandoned()


def body(result: WireResponse, read_timeout: float | None = None) -> Iterator[bytes]:
    """The body's writes, each when it is due (sleeping in this thread)."""
    due = time.monotonic()
    writes = _Writes(result)
    try:
        for delay, chunk in result.iter_chunks():
            if delay and writes.parts:
                yield writes.take()
            if read_timeout is not None and delay > read_timeout:
                time.sleep(read_timeout)
                raise ReadTimedOut
            if delay:
                due += delay
                time.sleep(max(0.0, due - time.monotonic()))
            if writes.add(chunk):
                yield writes.take()
    except StreamBreak:
        if writes.parts:
            yield writes.take()
        raise
    if writes.parts:
        yield writes.take()


async def abody(result: WireResponse, read_timeout: float | None = None) -> AsyncIterator[bytes]:
    """The body's writes, each when it is due (sleeping on the event loop)."""
    due = anyio.current_time()
    writes = _Writes(result)
    try:
        async for delay, chunk in _chunks(result):
            if delay and writes.parts:
                yield writes.take()
            if read_timeout is not None and delay > read_timeout:
                await _sleep(read_timeout)
                raise ReadTimedOut
            if delay:
                due += delay
                await _sleep(due - anyio.current_time())
            if writes.add(chunk):
                yield writes.take()
    except StreamBreak:
        if writes.parts:
            yield writes.take()
        raise
    if writes.parts:
        yield writes.take()


def stream_threads() -> anyio.CapacityLimiter:
    """This event loop's threads for blocking streams, apart from anyio's default pool (40)
    that runs `Engine.answer_async`: requests queued there for a recording slot can then
    never starve the recordings holding the slots of the threads they need to finish. (With
    one shared pool a record-through proxy wedged for good past slots + 40 streams.)"""
    return _stream_threads.limiter()


async def _chunks(result: WireResponse) -> AsyncIterator[Chunk]:
    stream = result.iter_chunks()
    if not result.blocking:
        for chunk in stream:
            yield chunk
        return
    done = object()
    threads = stream_threads()
    try:
        while True:
            item = await anyio.to_thread.run_sync(next, stream, done, limiter=threads)
            if item is done:
                return
            yield item  # type: ignore[misc]
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            await anyio.to_thread.run_sync(close, limiter=threads)


# -- the one way an answer goes out ---------------------------------------------------------

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Outlet(Protocol[T_co]):
    """An async adapter's terms: what `send` calls to answer. `T` is what the adapter's
    library takes as an answer (an `httpx.Response`; nothing, for ASGI, which sends)."""

    @property
    def read_timeout(self) -> float | None:
        """The client's read timeout, when the client is in this process (else None: a
        client on a socket times out by itself)."""

    @property
    def hang_up(self) -> Callable[[], Awaitable[None]] | None:
        """Returns once the client hangs up (a socket's client), or None (in-process)."""

    async def whole(self, response: WireResponse) -> T_co:
        """Answer with the whole body, due now."""
        ...

    async def stream(self, response: WireResponse, body: AsyncIterator[bytes]) -> T_co:
        """Answer with `body`, whose writes come when due; it raises `cut()` to cut."""
        ...

    async def drop(self) -> T_co:
        """Close the connection without an answer (or raise what the library raises)."""
        ...

    def cut(self) -> Exception:
        """What the body raises when a fault cuts the connection mid-body."""
        ...

    def timed_out(self) -> Exception:
        """What the library raises when its read timeout passes."""
        ...


async def send(response: WireResponse, outlet: Outlet[T]) -> T:
    """Send `response` through `outlet`: its delay first (a client that hangs up or times
    out meanwhile is noted; a server stopping drops it), then dropped, whole or streamed."""
    if response.delay:
        try:
            await _wait(response, outlet)
        except ReadTimedOut:
            raise outlet.timed_out() from None
        except ShuttingDown:
            return await outlet.drop()
    if response.drop:
        return await outlet.drop()
    if response.stream is None:
        return await outlet.whole(response)
    return await outlet.stream(response, _abody(response, outlet))


async def _wait(response: WireResponse, outlet: Outlet[T]) -> None:
    hang_up = outlet.hang_up
    if hang_up is None:
        await await_answer(response, outlet.read_timeout)
        return
    stopping = False
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            await hang_up()
            gave_up(response)
            group.cancel_scope.cancel()

        group.start_soon(watch)
        try:
            await await_answer(response, outlet.read_timeout)
        except ShuttingDown:
            stopping = True
        group.cancel_scope.cancel()
    if stopping:
        raise ShuttingDown


async def _abody(response: WireResponse, outlet: Outlet[T]) -> AsyncIterator[bytes]:
    try:
        async for chunk in abody(response, outlet.read_timeout):
            yield chunk
    except ReadTimedOut:
        raise outlet.timed_out() from None
    except (StreamBreak, ShuttingDown):
        raise outlet.cut() from None


class SyncOutlet(Protocol[T_co]):
    """A sync adapter's terms (`Outlet`, without waiting on an event loop)."""

    @property
    def read_timeout(self) -> float | None: ...

    def whole(self, response: WireResponse) -> T_co: ...

    def stream(self, response: WireResponse, body: Iterator[bytes]) -> T_co: ...

    def drop(self) -> T_co: ...

    def cut(self) -> Exception: ...

    def timed_out(self) -> Exception: ...


def send_sync(response: WireResponse, outlet: SyncOutlet[T]) -> T:
    """`send`, sleeping in this thread."""
    if response.delay:
        try:
            wait_to_answer(response, outlet.read_timeout)
        except ReadTimedOut:
            raise outlet.timed_out() from None
    if response.drop:
        return outlet.drop()
    if response.stream is None:
        return outlet.whole(response)
    return outlet.stream(response, _body(response, outlet))


def _body(response: WireResponse, outlet: SyncOutlet[T]) -> Iterator[bytes]:
    try:
        yield from body(response, outlet.read_timeout)
    except ReadTimedOut:
        raise outlet.timed_out() from None
    except StreamBreak:
        raise outlet.cut() from None
