"""In-process transports for httpx and httpx2, sync and async: no socket, no thread.

They call the engine directly and stream the body chunk by chunk, honouring pacing, stalls,
dropped connections and the client's read timeout — unlike httpx's own ASGITransport, which
buffers the whole body and is async only. The official SDK 1.x/2.x is built on httpx2 and
the 0.x line on httpx; `sdk_http_library()` tells which one is installed.

They are glue over the engine's exchange (`Engine.open`, `Exchange.feed`, `Engine.answer`)
and `delivery.send`: what is left here is httpx's own terms (its response, its errors, its
byte streams). Each library adds four small classes that say which are its own.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from mockspike.adapters import delivery
from mockspike.engine.engine import Engine
from mockspike.engine.exchange import Exchange, decode_headers
from mockspike.model.wire import WireResponse

LIBRARIES = ("httpx", "httpx2")


def sdk_http_library(sdk: str = "anthropic") -> str:
    """`httpx2` for the anthropic SDK 1.x/2.x, `httpx` for the 0.x line (`sdk="openai"`:
    the same question of the installed OpenAI SDK)."""
    base = importlib.import_module(f"{sdk}._base_client")
    return "httpx2" if hasattr(base, "httpx2") else "httpx"


@dataclass(frozen=True)
class _Library:
    """What differs between httpx and httpx2: the response class and the errors."""

    response: Any
    remote_error: Callable[..., Exception]
    timeout_error: Callable[..., Exception]
    byte_stream: Any
    """The library's in-memory body (a request body already read; a whole answer)."""

    def disconnected(self, request: Any) -> Exception:
        return self.remote_error("Server disconnected without sending a response.", request=request)

    def cut(self, request: Any) -> Exception:
        return self.remote_error(
            "peer closed connection without sending complete message body", request=request
        )

    def timed_out(self, request: Any) -> Exception:
        return self.timeout_error("timed out (mockspike stall)", request=request)

    def answer(self, request: Any, result: WireResponse, stream: Any) -> Any:
        return self.response(
            result.status,
            headers=list(result.headers.items()),
            stream=stream,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )


def _open(engine: Engine, request: Any) -> Exchange:
    """The request's exchange, its headers in: the URL's parts are the library's own."""
    query = request.url.query
    exchange = engine.open(
        request.method,
        request.url.path,
        query=query.decode("ascii") if isinstance(query, bytes) else str(query),
    )
    exchange.headers = decode_headers(request.headers.raw)
    return exchange


def _read_timeout(request: Any) -> float | None:
    value = (request.extensions.get("timeout") or {}).get("read")
    return float(value) if value is not None else None


class _Outlet:
    """The library's terms for `delivery.send` / `send_sync`: its response and errors."""

    hang_up: Callable[[], Awaitable[None]] | None = None
    """An in-process client never hangs up on its own transport."""

    def __init__(self, library: _Library, request: Any, body: type[Any]) -> None:
        self.library, self.request, self.body = library, request, body
        self.read_timeout = _read_timeout(request)

    def _whole(self, response: WireResponse) -> Any:
        library = self.library
        return library.answer(self.request, response, library.byte_stream(response.body))

    def _stream(self, response: WireResponse, body: Any) -> Any:
        return self.library.answer(self.request, response, self.body(body))

    def cut(self) -> Exception:
        return self.library.cut(self.request)

    def timed_out(self) -> Exception:
        return self.library.timed_out(self.request)


class _SyncOutlet(_Outlet):
    whole = _Outlet._whole

    def stream(self, response: WireResponse, body: Iterator[bytes]) -> Any:
        return self._stream(response, body)

    def drop(self) -> Any:
        raise self.library.disconnected(self.request)


class _AsyncOutlet(_Outlet):
    async def whole(self, response: WireResponse) -> Any:
        return self._whole(response)

    async def stream(self, response: WireResponse, body: AsyncIterator[bytes]) -> Any:
        return self._stream(response, body)

    async def drop(self) -> Any:
        raise self.library.disconnected(self.request)


class _SyncBody:
    """A body of writes, as the library iterates it."""

    def __init__(self, writes: Iterator[bytes]) -> None:
        self._writes = writes

    def __iter__(self) -> Iterator[bytes]:
        return self._writes


class _AsyncBody:
    def __init__(self, writes: AsyncIterator[bytes]) -> None:
        self._writes = writes

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._writes


class _SyncTransport:
    """A sync transport answering from a mockspike engine, in-process."""

    library: _Library
    body: type[_SyncBody]

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _answer(self, request: Any) -> Any:
        engine = self.engine
        exchange = _open(engine, request)
        if _read(exchange, request, self.library):
            response = engine.answer(exchange)
        else:
            response = engine.too_large(exchange)
        return delivery.send_sync(response, _SyncOutlet(self.library, request, self.body))


class _AsyncTransport:
    """An async transport answering from a mockspike engine, in-process."""

    library: _Library
    body: type[_AsyncBody]

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def _answer(self, request: Any) -> Any:
        engine = self.engine
        exchange = _open(engine, request)
        if await _aread(exchange, request, self.library):
            response = await engine.answer_async(exchange)
        else:
            response = engine.too_large(exchange)
        return await delivery.send(response, _AsyncOutlet(self.library, request, self.body))


def _read(exchange: Exchange, request: Any, library: _Library) -> bool:
    """Feed the request body to the exchange; False once it passes the limit (an upload
    streamed from a generator is never held whole, however long it runs)."""
    if exchange.declared_over(exchange.headers.get("content-length")):
        return False
    if isinstance(request.stream, library.byte_stream):  # in memory already (the SDK's)
        return exchange.feed(request.read())
    return all(exchange.feed(chunk) for chunk in request.stream)


async def _aread(exchange: Exchange, request: Any, library: _Library) -> bool:
    if exchange.declared_over(exchange.headers.get("content-length")):
        return False
    if isinstance(request.stream, library.byte_stream):
        return exchange.feed(await request.aread())
    async for chunk in request.stream:
        if not exchange.feed(chunk):
            return False
    return True


# -- httpx ---------------------------------------------------------------------------------

_HTTPX = _Library(httpx.Response, httpx.RemoteProtocolError, httpx.ReadTimeout, httpx.ByteStream)


class _HttpxBody(_SyncBody, httpx.SyncByteStream):
    """The writes of a streamed answer."""


class _AsyncHttpxBody(_AsyncBody, httpx.AsyncByteStream):
    """The writes of a streamed answer."""


class MockSpikeHttpxTransport(_SyncTransport, httpx.BaseTransport):
    library, body = _HTTPX, _HttpxBody

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = self._answer(request)
        return response


class MockSpikeAsyncHttpxTransport(_AsyncTransport, httpx.AsyncBaseTransport):
    library, body = _HTTPX, _AsyncHttpxBody

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = await self._answer(request)
        return response


TRANSPORTS: dict[str, tuple[type[_SyncTransport], type[_AsyncTransport]]] = {
    "httpx": (MockSpikeHttpxTransport, MockSpikeAsyncHttpxTransport),
}

# -- httpx2 (the SDK 1.x/2.x; absent where only the 0.x SDK is installed) ----------------

try:
    import httpx2
except ImportError:  # pragma: no cover - the legacy SDK's environment
    pass
else:
    _HTTPX2 = _Library(
        httpx2.Response, httpx2.RemoteProtocolError, httpx2.ReadTimeout, httpx2.ByteStream
    )

    class _Httpx2Body(_SyncBody, httpx2.SyncByteStream):
        """The writes of a streamed answer."""

    class _AsyncHttpx2Body(_AsyncBody, httpx2.AsyncByteStream):
        """The writes of a streamed answer."""

    class MockSpikeHttpx2Transport(_SyncTransport, httpx2.BaseTransport):
        library, body = _HTTPX2, _Httpx2Body

        def handle_request(self, request: httpx2.Request) -> httpx2.Response:
            response: httpx2.Response = self._answer(request)
            return response

    class MockSpikeAsyncHttpx2Transport(_AsyncTransport, httpx2.AsyncBaseTransport):
        library, body = _HTTPX2, _AsyncHttpx2Body

        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            response: httpx2.Response = await self._answer(request)
            return response

    TRANSPORTS["httpx2"] = (MockSpikeHttpx2Transport, MockSpikeAsyncHttpx2Transport)


def _classes(library: str) -> tuple[type[_SyncTransport], type[_AsyncTransport]]:
    if library not in LIBRARIES:
        raise ValueError(f"unknown HTTP library {library!r}; choose httpx or httpx2")
    if library not in TRANSPORTS:
        raise ImportError(f"mockspike: {library} is not installed (pip install {library})")
    return TRANSPORTS[library]


def transport(engine: Engine, library: str = "httpx") -> _SyncTransport:
    """A sync transport (`httpx.BaseTransport` or `httpx2.BaseTransport`) for `engine`."""
    return _classes(library)[0](engine)


def async_transport(engine: Engine, library: str = "httpx") -> _AsyncTransport:
    """An async transport for `engine`."""
    return _classes(library)[1](engine)
