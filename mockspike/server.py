"""The Starlette adapter: HTTP in, `Engine.handle`, HTTP out, streams sent frame by frame."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .engine import Engine
from .wire import WireRequest, WireResponse

#: Bodies above this size are handled on a worker thread so one huge request cannot stall
#: the event loop for other clients.
_INLINE_BODY_BYTES = 256 * 1024
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(engine: Engine) -> Starlette:
    """A Starlette app that answers every path through `engine`."""

    async def endpoint(request: Request) -> Response:
        body = await _read_body(request, engine.profile.max_body_bytes)
        if body is None:
            return _to_starlette(engine.too_large())
        wire = WireRequest(
            method=request.method,
            path=request.url.path,
            headers={
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers.raw
            },
            body=body,
            query=request.url.query,
            client_ip=request.client.host if request.client else "",
        )
        if len(body) > _INLINE_BODY_BYTES:
            result = await anyio.to_thread.run_sync(engine.handle, wire)
        else:
            result = engine.handle(wire)
        return _to_starlette(result)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=_METHODS)])


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


def _to_starlette(result: WireResponse) -> Response:
    if result.stream is None:
        return Response(result.body, status_code=result.status, headers=result.headers)
    media_type = result.headers.get("content-type")
    return StreamingResponse(
        _frames(result.stream),
        status_code=result.status,
        headers=result.headers,
        media_type=media_type,
    )


async def _frames(stream: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in stream:
        yield chunk
