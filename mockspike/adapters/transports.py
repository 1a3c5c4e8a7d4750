"""In-process transports for httpx and httpx2, sync and async: no socket, no thread.

They call the engine directly and stream the body chunk by chunk, honouring pacing, stalls,
dropped connections and the client's read timeout — unlike httpx's own ASGITransport, which
buffers the whole body and is async only. The official SDK 1.x/2.x is built on httpx2 and
the 0.x line on httpx; `sdk_http_library()` tells which one is installed.
"""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from types import ModuleType
from typing import Any

import anyio
import anyio.to_thread

from ..core.engine import Engine
from ..core.wire import StreamBreak, WireRequest, WireResponse
from .pulls import stream_threads

LIBRARIES = ("httpx", "httpx2")


def _library(name: str) -> ModuleType:
    if name not in LIBRARIES:
        raise ValueError(f"unknown HTTP library {name!r}; choose httpx or httpx2")
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(f"mockspike: {name} is not installed (pip install {name})") from None


def sdk_http_library() -> str:
    """`httpx2` for the anthropic SDK 1.x/2.x, `httpx` for the 0.x line."""
    base = importlib.import_module("anthropic._base_client")
    return "httpx2" if hasattr(base, "httpx2") else "httpx"


def _wire(request: Any) -> WireRequest:
    return WireRequest(
        method=request.method,
        path=request.url.path,
        headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers.raw},
        body=request.content,
        query=request.url.query.decode("ascii")
        if isinstance(request.url.query, bytes)
        else str(request.url.query),
        client_ip="127.0.0.1",
    )


def _read_timeout(request: Any) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    value = timeout.get("read")
    return float(value) if value is not None else None


def _schedule(
    result: WireResponse, limit: float | None, clock: Callable[[], float]
) -> Iterator[tuple[float, bytes | None]]:
    """(seconds to wait, chunk) on an absolute schedule, so sending time does not drift;
    a chunk of None means: the wait outlasted the read timeout, time out after it."""
    due = clock()
    for delay, chunk in result.iter_chunks():
        if limit is not None and delay > limit:
            yield limit, None
            return
        due += delay
        yield (max(0.0, due - clock()) if delay else 0.0), chunk


@functools.cache
def _classes(name: str) -> tuple[type, type]:
    """The sync and async transport classes for one library (built once)."""
    httpx: Any = _library(name)

    def disconnected(request: Any) -> Exception:
        error: Exception = httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )
        return error

    def timed_out(request: Any) -> Exception:
        error: Exception = httpx.ReadTimeout("timed out (mockspike stall)", request=request)
        return error

    def response(request: Any, result: WireResponse, stream: Any) -> Any:
        return httpx.Response(
            result.status,
            headers=list(result.headers.items()),
            stream=stream,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    def cut(request: Any) -> Exception:
        error: Exception = httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body", request=request
        )
        return error

    class SyncStream(httpx.SyncByteStream):  # type: ignore[misc]
        def __init__(self, result: WireResponse, request: Any) -> None:
            self._result, self._request = result, request

        def __iter__(self) -> Iterator[bytes]:
            limit = _read_timeout(self._request)
            try:
                for wait, chunk in _schedule(self._result, limit, time.monotonic):
                    if wait:
                        time.sleep(wait)
                    if chunk is None:
                        raise timed_out(self._request)
                    yield chunk
            except StreamBreak:
                raise cut(self._request) from None

    class AsyncStream(httpx.AsyncByteStream):  # type: ignore[misc]
        def __init__(self, result: WireResponse, request: Any) -> None:
            self._result, self._request = result, request

        async def __aiter__(self) -> AsyncIterator[bytes]:
            limit = _read_timeout(self._request)
            schedule = _schedule(self._result, limit, anyio.current_time)
            if self._result.blocking:  # a recording in progress: pull it on a worker thread
                pulled: list[tuple[float, bytes | None]] = await anyio.to_thread.run_sync(
                    list, schedule, limiter=stream_threads()
                )
                schedule = iter(pulled)
            try:
                for wait, chunk in schedule:
                    if wait:
                        await anyio.sleep(wait)
                    if chunk is None:
                        raise timed_out(self._request)
                    yield chunk
            except StreamBreak:
                raise cut(self._request) from None

    class Transport(httpx.BaseTransport):  # type: ignore[misc]
        """A sync transport answering from a mockspike engine, in-process."""

        def __init__(self, engine: Engine) -> None:
            self.engine = engine

        def handle_request(self, request: Any) -> Any:
            request.read()
            result = self.engine.handle(_wire(request))
            limit = _read_timeout(request)
            if limit is not None and result.delay > limit:
                time.sleep(limit)
                raise timed_out(request)
            if result.delay:
                time.sleep(result.delay)
            if result.drop:
                raise disconnected(request)
            return response(request, result, SyncStream(result, request))

    class AsyncTransport(httpx.AsyncBaseTransport):  # type: ignore[misc]
        """An async transport answering from a mockspike engine, in-process."""

        def __init__(self, engine: Engine) -> None:
            self.engine = engine

        async def handle_async_request(self, request: Any) -> Any:
            await request.aread()
            result = await self.engine.handle_async(_wire(request))
            limit = _read_timeout(request)
            if limit is not None and result.delay > limit:
                await anyio.sleep(limit)
                raise timed_out(request)
            if result.delay:
                await anyio.sleep(result.delay)
            if result.drop:
                raise disconnected(request)
            return response(request, result, AsyncStream(result, request))

    Transport.__name__ = Transport.__qualname__ = f"MockSpike{name.capitalize()}Transport"
    AsyncTransport.__name__ = AsyncTransport.__qualname__ = (
        f"MockSpikeAsync{name.capitalize()}Transport"
    )
    return Transport, AsyncTransport


def transport(engine: Engine, library: str = "httpx") -> Any:
    """A sync transport (`httpx.BaseTransport` or `httpx2.BaseTransport`) for `engine`."""
    return _classes(library)[0](engine)


def async_transport(engine: Engine, library: str = "httpx") -> Any:
    """An async transport for `engine`."""
    return _classes(library)[1](engine)
