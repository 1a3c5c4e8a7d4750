"""The server's ASGI app. `/v1/*` is answered here in one step, straight from the ASGI
scope to the engine's exchange and back: the exchange opened from the scope, the body read
within its bounds (`bounds.Bodies`: 413 without reading past the limit, 408, 503), the
engine's answer sent by `delivery.send` as ASGI messages — no middleware hops, no
Starlette routing, Request or Response objects (their per-request work was a sixth of a
small request's time). Everything else (the admin API behind its guard, `/openapi.json`,
other paths) goes to `other`; the API paths Starlette routes come back to `answer_read`.

HTTP itself stays the server's (uvicorn). What is ASGI's own is here: a client hanging up
during a delay noted, and a dropped or cut connection closed under the client.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import anyio

from mockspike.adapters import delivery
from mockspike.adapters.bounds import Bodies
from mockspike.adapters.guard import Access, Refusal, api_refusal, envelope
from mockspike.adapters.scope import raw_headers, send_answer
from mockspike.engine.engine import Engine
from mockspike.engine.exchange import Exchange, decode_headers
from mockspike.model.wire import WireResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
PREFIX = "/v1/"
GUARDED = ("/v1/files", "/v1/messages/batches/")
"""Paths whose reads the Host rule may refuse (see `guard.api_refusal`)."""


class App:
    """The server's ASGI app: `/v1/*` answered here, the rest by `other`."""

    def __init__(
        self, engine: Engine, bodies: Bodies, other: ASGIApp, access: Access | None = None
    ) -> None:
        self.engine = engine
        self.bodies = bodies
        self.other = other
        self.access = access or Access()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(PREFIX)
            or scope["method"] not in METHODS
            or scope.get("root_path")
        ):
            await self.other(scope, receive, send)
            return
        refused = self._refusal(scope)
        if refused is not None:
            for message in envelope(*refused):
                await send(message)
            return
        try:
            await answer(self.engine, scope, receive, send, self.bodies)
        except ConnectionAbortedError:  # a drop where the transport is out of reach
            raise
        except OSError:  # the client went away: nothing more to answer
            return

    def _refusal(self, scope: Scope) -> Refusal | None:
        """The Host rule for stored content and credentialed forwarding (`guard.py`)."""
        front = self.engine.front
        spends = front is not None and front.credentialed
        method, path = scope["method"], scope["path"]
        if not spends and (method not in ("GET", "HEAD") or not path.startswith(GUARDED)):
            return None  # the hot path: one check
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        server = scope.get("server")
        if not host and server:
            host = f"{server[0]}:{server[1]}"
        return api_refusal(
            self.access, method=method, path=path, host=host, spends_credentials=spends
        )


class Exchanges:
    """The API as a Starlette route (a path the raw path passed on): the same exchange,
    its body read within the server's bounds already (`bounds.BodyReader`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await answer(self.engine, scope, receive, send, None)


async def answer(
    engine: Engine, scope: Scope, receive: Receive, send: Send, bodies: Bodies | None
) -> None:
    """One ASGI request through the engine's exchange: opened from the scope, its body read
    within its limit (by `bodies`, which count it in flight, or as the app received it),
    answered, and sent by `delivery.send`."""
    client = scope.get("client")
    exchange = engine.open(
        scope["method"],
        scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        client_ip=client[0] if client else "",
    )
    exchange.headers = decode_headers(scope["headers"])
    if bodies is None:
        if not await _read(exchange, receive, send, engine):
            return
    elif not await bodies.read(exchange, scope, receive, send):
        return  # refused (answered) or the client left
    try:
        if not engine.blocking:
            response = await engine.answer_async(exchange)
            await delivery.send(response, _Outlet(receive, send))
            return
        # a recording waits on the network: a client that hangs up ends that wait
        exchange.gone = threading.Event()
        failed: Exception | None = None
        async with anyio.create_task_group() as group:
            group.start_soon(_watch_for_hang_up, receive, exchange.gone)
            try:
                response = await engine.answer_async(exchange)
                await delivery.send(response, _Outlet(receive, send))
            except Exception as exc:  # raised as itself, not wrapped in a group
                failed = exc
            finally:
                group.cancel_scope.cancel()
        if failed is not None:
            raise failed
    finally:
        if bodies is not None:
            bodies.release(exchange)


async def _read(exchange: Exchange, receive: Receive, send: Send, engine: Engine) -> bool:
    """The body as the app receives it (already read within the server's bounds), fed to
    the exchange; a 413 past the endpoint's own limit."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return False
        if not exchange.feed(message.get("body", b"")):
            await send_answer(send, engine.too_large(exchange))
            return False
        if not message.get("more_body", False):
            return True


async def _watch_for_hang_up(receive: Receive, gone: threading.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()


class _Cut(Exception):
    """A fault cut the stream: the connection is closed under the client."""


class _Outlet:
    """ASGI's terms for `delivery.send`: messages sent, a connection dropped."""

    __slots__ = ("receive", "send")
    read_timeout = None
    """A client on a socket times out by itself."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self.receive, self.send = receive, send

    async def hang_up(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass

    async def whole(self, response: WireResponse) -> None:
        await _send_whole(self.send, response)

    async def stream(self, response: WireResponse, body: AsyncIterator[bytes]) -> None:
        send = self.send
        start = {"type": "http.response.start", "status": response.status}
        await send({**start, "headers": raw_headers(response.headers)})
        try:
            async for chunk in body:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except _Cut:
            await drop(self.receive)
            return
        await send({"type": "http.response.body", "body": b""})

    async def drop(self) -> None:
        await drop(self.receive)

    def cut(self) -> Exception:
        return _Cut()

    timed_out = cut


async def _send_whole(send: Send, result: WireResponse) -> None:
    headers = raw_headers(result.headers)
    headers.append((b"content-length", b"%d" % len(result.body)))
    start = {"type": "http.response.start", "status": result.status, "headers": headers}
    body = {"type": "http.response.body", "body": result.body}
    cycle: Any = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        await send(start)
        await send(body)
        return
    # uvicorn writes the head and the body apart: two sends on the socket, each a trip
    # through the network stack; held here, they leave in one.
    held = cycle.transport = _Held(transport)
    try:
        await send(start)
        await send(body)
    finally:
        cycle.transport = transport
        held.flush()


class _Held:
    """A transport whose writes wait for `flush` (or a `close`, which flushes first)."""

    __slots__ = ("parts", "transport")

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(data)

    def flush(self) -> None:
        if self.parts:
            data, self.parts = b"".join(self.parts), []
            if not self.transport.is_closing():
                self.transport.write(data)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


async def drop(receive: Receive) -> None:
    """Close the client's connection without finishing the response. Under uvicorn the
    transport is reachable from the receive channel; elsewhere the response is cut by
    raising, which servers answer by closing the connection."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionAbortedError("mockspike fault: connection dropped")
    transport.close()
    for _ in range(100):  # let the server notice, so it sends nothing more
        if getattr(cycle, "disconnected", True):
            return
        await anyio.sleep(0)
