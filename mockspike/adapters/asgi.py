"""The Starlette adapter: HTTP in, `Engine.handle`, HTTP out; streams sent chunk by chunk
with their pacing (`delivery.py`); faults that drop or cut the connection. The admin API
(`admin.py`) and `/openapi.json` are mounted beside the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..core.wire import StreamBreak, WireRequest, WireResponse
from . import delivery
from .admin import admin_routes
from .openapi import openapi_document

if TYPE_CHECKING:
    from ..mock import MockSpike

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(fake: MockSpike) -> Starlette:
    """A Starlette app that answers every API path through the fake's engine, the admin
    API under `/_mockspike/`, and `/openapi.json`."""
    engine = fake.engine

    async def endpoint(request: Request) -> Response:
        body = await _read_body(request, engine.profile.max_body_bytes)
        if body is None:
            return _to_starlette(engine.too_large(), request)
        scope = request.scope
        client = scope.get("client")
        wire = WireRequest(
            method=scope["method"],
            path=scope["path"],
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            body=body,
            query=scope.get("query_string", b"").decode("latin-1"),
            client_ip=client[0] if client else "",
        )
        result = await engine.handle_async(wire)
        await delivery.await_answer(result)
        if result.drop:
            await _drop(request)
            return Response(status_code=500)  # never sent: the connection is gone
        return _to_starlette(result, request)

    routes = [
        Route("/v1/{path:path}", endpoint, methods=_METHODS),  # the API first: one match
        *admin_routes(fake),
        Route("/openapi.json", _openapi(engine.profile.name), methods=["GET"]),
        Route("/{path:path}", endpoint, methods=_METHODS),
    ]
    return Starlette(routes=routes)


def _openapi(profile: str) -> Any:
    async def endpoint(request: Request) -> Response:
        return JSONResponse(openapi_document(profile))

    return endpoint


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None once it passes `limit` (stops reading; never buffers 50 MB)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class _Answer(Response):
    """A whole answer whose headers the engine already made (skips Starlette's rebuild)."""

    def __init__(self, result: WireResponse) -> None:
        self.status_code = result.status
        self.body = result.body
        self.background = None
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in result.headers.items()]
        headers.append((b"content-length", str(len(result.body)).encode()))
        self.raw_headers = headers


def _to_starlette(result: WireResponse, request: Request) -> Response:
    if result.stream is None:
        return _Answer(result)
    return StreamingResponse(
        _chunks(result, request),
        status_code=result.status,
        headers=result.headers,
        media_type=result.headers.get("content-type"),
    )


async def _chunks(result: WireResponse, request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in delivery.abody(result):
            yield chunk
    except StreamBreak:
        await _drop(request)


async def _drop(request: Request) -> None:
    """Close the client's connection without finishing the response. Under uvicorn the
    transport is reachable from the receive channel; elsewhere the response is cut by
    raising, which servers answer by closing the connection."""
    cycle = getattr(request.receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionAbortedError("mockspike fault: connection dropped")
    transport.close()
    for _ in range(100):  # let the server notice, so it sends nothing more
        if getattr(cycle, "disconnected", True):
            return
        await anyio.sleep(0)
