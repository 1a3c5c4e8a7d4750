"""The ASGI app: `/v1/*` on the API's raw ASGI path (`api.py`); the admin API
(`admin.py`), `/openapi.json` and any other path through Starlette, whose API routes are
the same exchange (`api.Exchanges`)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockspike.adapters.admin import admin_error, admin_routes
from mockspike.adapters.api import App, Exchanges
from mockspike.adapters.bounds import Bodies, BodyReader
from mockspike.adapters.control import Controls
from mockspike.adapters.guard import Access, Guard
from mockspike.adapters.openapi import openapi_document
from mockspike.model.errors import ERROR_TYPES

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(fake: Controls) -> App:
    """The ASGI app: every API path through the fake's engine (`/v1/*` on the raw path,
    anything else through Starlette, back to the same exchange), the admin API under
    `/_mockspike/`, and `/openapi.json`; every body read within its bounds (`bounds.py`),
    the admin API behind its guard (`guard.py`)."""
    engine = fake.engine
    api = Exchanges(engine)
    routes = [
        Route("/v1/{path:path}", api, methods=_METHODS),  # what the raw path passes on
        *admin_routes(fake),
        Route("/openapi.json", _openapi(engine.profile.name), methods=["GET"]),
        Route("/{path:path}", api, methods=_METHODS),
    ]
    settings = fake.settings
    # The raw `/v1/*` path (`App`) is outermost and reads its own bodies within the same
    # bounds (one `Bodies`, so the bytes-in-flight cap is server-wide); the rest goes
    # through the admin guard, then the body bounds (the profile's limit, an API path's
    # own limit checked again by its exchange), so a refused admin request is never read.
    bodies = Bodies(settings.bounds, engine.too_large)
    handlers = {HTTPException: _http_error}
    other = Starlette(routes=routes, exception_handlers=handlers)
    access = Access.of(
        settings.admin_token,
        settings.allowed_hosts,
        open=settings.admin_open,
        loopback_free=settings.admin_loopback,
    )
    guarded = Guard(BodyReader(other, bodies, engine.profile.max_body_bytes), access=access)
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
