"""In-process transports for httpx and httpx2, sync and async: no socket, no thread.

They call the engine directly and stream the body chunk by chunk, honouring pacing, stalls,
dropped connections and the client's read timeout — unlike httpx's own ASGITransport, which
buffers the whole body and is async only. The official SDK 1.x/2.x is built on httpx2 and
the 0.x line on httpx; `sdk_http_library()` tells which one is installed.

The behaviour is written once (`_SyncTransport`, `_AsyncTransport` and their bodies); each
library adds four small classes that say which base classes and errors are its own.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from mockspike.adapters import delivery
from mockspike.engine.engine import Engine
from mockspike.model.wire import StreamBreak, WireRequest, WireResponse

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


def _headers(request: Any) -> dict[str, str]:
    """The request's headers as the engine takes them (lower-cased names)."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers.raw}


def _declared_too_large(headers: dict[str, str], limit: int) -> bool:
    declared = headers.get("content-length")
    return declared is not None and declared.isdigit() and int(declared) > limit


def _read_body(
    request: Any, headers: dict[str, str], limit: int, library: _Library
) -> bytes | None:
    """The request body, or None once it passes `limit`: reading stops there, so an
    upload streamed from a generator is never held whole, however long it runs."""
    if _declared_too_large(headers, limit):
        return None
    if isinstance(request.stream, library.byte_stream):  # in memory already (the SDK's)
        body: bytes = request.read()
        return body if len(body) <= limit else None
    chunks: list[bytes] = []
    size = 0
    for chunk in request.stream:
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _aread_body(
    request: Any, headers: dict[str, str], limit: int, library: _Library
) -> bytes | None:
    if _declared_too_large(headers, limit):
        return None
    if isinstance(request.stream, library.byte_stream):
        body: bytes = await request.aread()
        return body if len(body) <= limit else None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream:
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _wire(request: Any, headers: dict[str, str], body: bytes) -> WireRequest:
    query = request.url.query
    return WireRequest(
        method=request.method,
        path=request.url.path,
        headers=headers,
        body=body,
        query=query.decode("ascii") if isinstance(query, bytes) else str(query),
        client_ip="127.0.0.1",
    )


def _read_timeout(request: Any) -> float | None:
    value = (request.extensions.get("timeout") or {}).get("read")
    return float(value) if value is not None else None


class _SyncBody:
    library: _Library

    def __init__(self, result: WireResponse, request: Any) -> None:
        self._result, self._request = result, request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from delivery.body(self._result, _read_timeout(self._request))
        except delivery.ReadTimedOut:
            raise self.library.timed_out(self._request) from None
        except StreamBreak:
            raise self.library.cut(self._request) from None


class _AsyncBody:
    library: _Library

    def __init__(self, result: WireResponse, request: Any) -> None:
        self._result, self._request = result, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in delivery.abody(self._result, _read_timeout(self._request)):
                yield chunk
        except delivery.ReadTimedOut:
            raise self.library.timed_out(self._request) from None
        except StreamBreak:
            raise self.library.cut(self._request) from None


class _SyncTransport:
    """A sync transport answering from a mockspike engine, in-process."""

    library: _Library
    body: type[_SyncBody]

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _answer(self, request: Any) -> Any:
        method, path = request.method, request.url.path
        headers = _headers(request)
        body = _read_body(request, headers, self.engine.body_limit(method, path), self.library)
        if body is None:
            result = self.engine.too_large_for(method, path)
        else:
            result = self.engine.handle(_wire(request, headers, body))
        if result.delay:
            try:
                delivery.wait_to_answer(result, _read_timeout(request))
            except delivery.ReadTimedOut:
                raise self.library.timed_out(request) from None
        if result.drop:
            raise self.library.disconnected(request)
        if result.stream is None:  # whole and due now: nothing to pace, nothing to cut
            return self.library.answer(request, result, self.library.byte_stream(result.body))
        return self.library.answer(request, result, self.body(result, request))


class _AsyncTransport:
    """An async transport answering from a mockspike engine, in-process."""

    library: _Library
    body: type[_AsyncBody]

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def _answer(self, request: Any) -> Any:
        method, path = request.method, request.url.path
        headers = _headers(request)
        limit = self.engine.body_limit(method, path)
        body = await _aread_body(request, headers, limit, self.library)
        if body is None:
            result = self.engine.too_large_for(method, path)
        else:
            result = await self.engine.handle_async(_wire(request, headers, body))
        if result.delay:
            try:
                await delivery.await_answer(result, _read_timeout(request))
            except delivery.ReadTimedOut:
                raise self.library.timed_out(request) from None
        if result.drop:
            raise self.library.disconnected(request)
        if result.stream is None:  # whole and due now: nothing to pace, nothing to cut
            return self.library.answer(request, result, self.library.byte_stream(result.body))
        return self.library.answer(request, result, self.body(result, request))


# -- httpx ---------------------------------------------------------------------------------

_HTTPX = _Library(httpx.Response, httpx.RemoteProtocolError, httpx.ReadTimeout, httpx.ByteStream)


class _HttpxBody(_SyncBody, httpx.SyncByteStream):
    library = _HTTPX


class _AsyncHttpxBody(_AsyncBody, httpx.AsyncByteStream):
    library = _HTTPX


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
        library = _HTTPX2

    class _AsyncHttpx2Body(_AsyncBody, httpx2.AsyncByteStream):
        library = _HTTPX2

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
