"""The ASGI app: `/v1/*` on the API's raw ASGI path (`api.py`); the admin API
(`admin.py`), `/openapi.json` and any other path through Starlette, whose endpoint maps
HTTP onto `Engine.handle` the same way (streams paced by `delivery.py`, faults that drop or
cut the connection)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from mockspike.adapters import delivery
from mockspike.adapters.admin import admin_error, admin_routes
from mockspike.adapters.api import App, drop, watch_while_waiting
from mockspike.adapters.bounds import Bodies, BodyReader
from mockspike.adapters.guard import Access, Guard
from mockspike.adapters.openapi import openapi_document
from mockspike.adapters.scope import raw_headers, wire_request
from mockspike.model.errors import ERROR_TYPES
from mockspike.model.wire import StreamBreak, WireResponse

if TYPE_CHECKING:
    from mockspike.mock import MockSpike

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(fake: MockSpike) -> App:
    """The ASGI app: every API path through the fake's engine (`/v1/*` on the raw path,
    anything else through Starlette), the admin API under `/_mockspike/`, and
    `/openapi.json`; every body read within its bounds (`bounds.py`), the admin API behind
    its guard (`guard.py`)."""
    engine = fake.engine

    async def endpoint(request: Request) -> Response:
        scope = request.scope
        body = await _read_body(request, engine.body_limit(scope["method"], scope["path"]))
        if body is None:
            return _to_starlette(engine.too_large_for(scope["method"], scope["path"]), request)
        wire = wire_request(scope, body)
        result = await engine.handle_async(wire)
        result = await watch_while_waiting(result, request.receive)
        if result.drop:
            await drop(request.receive)
            return Response(status_code=500)  # never sent: the connection is gone
        return _to_starlette(result, request)

    routes = [
        Route("/v1/{path:path}", endpoint, methods=_METHODS),  # what the raw path passes on
        *admin_routes(fake),
        Route("/openapi.json", _openapi(engine.profile.name), methods=["GET"]),
        Route("/{path:path}", endpoint, methods=_METHODS),
    ]
    settings = fake.settings

    def too_large(method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        answer = engine.too_large_for(method, path)
        return answer.status, answer.headers, answer.body

    # The raw `/v1/*` path (`App`) is outermost and reads its own bodies within the same
    # bounds (one `Bodies`, so the bytes-in-flight cap is server-wide); the rest goes
    # through the admin guard, then the body bounds, so a refused admin request is never read.
    bodies = Bodies(settings.bounds, too_large)
    handlers = {HTTPException: _http_error}
    other = Starlette(routes=routes, exception_handlers=handlers)
    access = Access.of(
        settings.admin_token,
        settings.allowed_hosts,
        open=settings.admin_open,
        loopback_free=settings.admin_loopback,
    )
    guarded = Guard(BodyReader(other, bodies, body_limit=engine.body_limit), access=access)
    return App(engine, bodies, guarded, access)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (a method no route takes), in the envelope."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = str(getattr(exc, "detail", exc))
    return admin_error(status, ERROR_TYPES.get(status, "api_error"), detail)


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
        headers = raw_headers(result.headers)
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
    except (StreamBreak, delivery.ShuttingDown):
        await drop(request.receive)
