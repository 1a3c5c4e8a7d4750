"""The server's ASGI app. `/v1/*` is answered here in one step, straight from the ASGI
scope to the engine and back: the body read within its bounds (`bounds.Bodies`: 413
without reading past the limit, 408, 503), the engine's answer, and that answer sent as
ASGI messages — no middleware hops, no Starlette routing, Request or Response objects
(their per-request work was a sixth of a small request's time). Everything else (the admin
API behind its guard, `/openapi.json`, other paths) goes to `other`, unchanged.

HTTP itself stays the server's (uvicorn). The behaviour is the Starlette endpoint's:
pacing and faults through `delivery.py`, a client hanging up during a delay noted, and a
dropped or cut connection closed under the client.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio

from mockspike.adapters import delivery
from mockspike.adapters.bounds import Bodies
from mockspike.adapters.guard import Access, Refusal, api_refusal, envelope
from mockspike.adapters.scope import raw_headers, wire_request
from mockspike.engine.engine import Engine
from mockspike.model.wire import StreamBreak, WireRequest, WireResponse

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
            await self._answer(scope, receive, send)
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

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        engine = self.engine
        method, path = scope["method"], scope["path"]
        body = await self.bodies.read(scope, receive, send, engine.body_limit(method, path))
        if body is None:
            return  # refused (answered) or the client left
        request = wire_request(scope, body)
        if not engine.blocking:
            await self._respond(request, body, receive, send)
            return
        # a recording waits on the network: a client that hangs up ends that wait
        request.gone = threading.Event()
        failed: Exception | None = None
        async with anyio.create_task_group() as group:
            group.start_soon(_watch_for_hang_up, receive, request.gone)
            try:
                await self._respond(request, body, receive, send)
            except Exception as exc:  # raised as itself, not wrapped in a group
                failed = exc
            finally:
                group.cancel_scope.cancel()
        if failed is not None:
            raise failed

    async def _respond(
        self, request: WireRequest, body: bytes, receive: Receive, send: Send
    ) -> None:
        engine = self.engine
        try:
            result = await engine.handle_async(request)
            if result.delay:
                result = await watch_while_waiting(result, receive)
            if result.drop:
                await drop(receive)
            elif result.stream is None:
                await _send_whole(send, result)
            else:
                await _send_stream(send, receive, result)
        finally:
            self.bodies.release(body)


async def _watch_for_hang_up(receive: Receive, gone: threading.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()


async def watch_while_waiting(result: WireResponse, receive: Receive) -> WireResponse:
    """Wait the answer's delay; a client that hangs up meanwhile is noted (a stall it did
    not wait out) and the wait ends. When the server stops first, the answer becomes a
    dropped connection: a stall never holds the shutdown."""
    if not result.delay:
        return result
    stopping = False
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            delivery.gave_up(result)
            group.cancel_scope.cancel()

        group.start_soon(watch)
        try:
            await delivery.await_answer(result)
        except delivery.ShuttingDown:
            stopping = True
        group.cancel_scope.cancel()
    return WireResponse(0, {}, drop=True) if stopping else result


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


async def _send_stream(send: Send, receive: Receive, result: WireResponse) -> None:
    start = {"type": "http.response.start", "status": result.status}
    await send({**start, "headers": raw_headers(result.headers)})
    try:
        async for chunk in delivery.abody(result):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except (StreamBreak, delivery.ShuttingDown):
        await drop(receive)
        return
    await send({"type": "http.response.body", "body": b""})


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
