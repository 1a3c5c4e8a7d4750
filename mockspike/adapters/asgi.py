"""The Starlette adapter: HTTP in, `Engine.handle`, HTTP out; streams sent chunk by chunk
with their pacing; faults that drop or cut the connection; the admin API."""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .. import _json
from .._redact import REDACTED
from ..contract.errors import ERROR_TYPES, error_body
from ..core.engine import Engine, new_request_id
from ..core.wire import Chunk, StreamBreak, WireRequest, WireResponse
from ..responders import script_files as spec
from .bounds import BodyReader, Bounds
from .guard import ADMIN_TOKEN_HEADER, Access, Guard
from .openapi import openapi_document

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
__all__ = ["ADMIN_TOKEN_HEADER", "create_app"]
MAX_CREDITS = 1e12
"""The largest wallet change or balance the admin API takes (1 credit = 1 US cent)."""


def create_app(
    engine: Engine,
    admin_token: str | None = None,
    *,
    allowed_hosts: tuple[str, ...] = (),
    bounds: Bounds | None = None,
) -> Starlette:
    """A Starlette app that answers every API path through `engine`, and `/_mockspike/`
    behind the access guard; bodies are read within `bounds` before any route runs."""

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
        if result.delay:
            await anyio.sleep(result.delay)
        if result.drop:
            await _drop(request)
            return Response(status_code=500)  # never sent: the connection is gone
        return _to_starlette(result, request)

    admin = _Admin(engine)
    routes = [
        Route("/v1/{path:path}", endpoint, methods=_METHODS),  # the API first: one match
        Route("/_mockspike/health", admin.guarded(admin.health), methods=["GET"]),
        Route("/_mockspike/rules", admin.guarded(admin.rules), methods=["GET", "POST"]),
        Route("/_mockspike/replies", admin.guarded(admin.one_shot("reply")), methods=["POST"]),
        Route("/_mockspike/failures", admin.guarded(admin.one_shot("fail")), methods=["POST"]),
        Route("/_mockspike/faults", admin.guarded(admin.one_shot("fault")), methods=["POST"]),
        Route("/_mockspike/requests", admin.guarded(admin.requests), methods=["GET"]),
        Route("/_mockspike/reset", admin.guarded(admin.reset), methods=["POST"]),
        Route("/_mockspike/wallets", admin.guarded(admin.wallets), methods=["GET"]),
        Route("/_mockspike/wallets/{key}", admin.guarded(admin.wallet), methods=["GET", "POST"]),
        Route("/_mockspike/cache", admin.guarded(admin.cache), methods=["GET", "DELETE"]),
        Route("/openapi.json", _openapi(engine.profile.name), methods=["GET"]),
        Route("/{path:path}", endpoint, methods=_METHODS),
    ]

    def too_large() -> tuple[int, dict[str, str], bytes]:
        answer = engine.too_large()
        return answer.status, answer.headers, answer.body

    middleware = [
        Middleware(Guard, access=Access.of(admin_token, allowed_hosts)),
        Middleware(
            BodyReader,
            bounds=bounds or Bounds(),
            max_body_bytes=engine.profile.max_body_bytes,
            too_large=too_large,
        ),
    ]
    handlers = {HTTPException: _http_error}
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (a method no route takes), in the envelope."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = str(getattr(exc, "detail", exc))
    return _admin_error(status, ERROR_TYPES.get(status, "api_error"), detail)


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
    chunks = _threaded(result.stream) if result.blocking else result.stream
    return StreamingResponse(
        _chunks(chunks, request),
        status_code=result.status,
        headers=result.headers,
        media_type=result.headers.get("content-type"),
    )


async def _threaded(stream: Iterator[Chunk]) -> AsyncIterator[Chunk]:
    """Pull a blocking stream (a recording in progress) on a worker thread, chunk by chunk,
    so a slow upstream never stalls the event loop; closing it closes the upstream."""
    done = object()
    try:
        while True:
            chunk = await anyio.to_thread.run_sync(next, stream, done)
            if chunk is done:
                return
            yield chunk  # type: ignore[misc]
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            await anyio.to_thread.run_sync(close)


async def _chunks(
    stream: Iterator[Chunk] | AsyncIterator[Chunk], request: Request
) -> AsyncIterator[bytes]:
    """Send each chunk on schedule: delays add up from the start of the body, so the time
    spent sending does not accumulate as drift."""
    due = anyio.current_time()
    try:
        async for delay, chunk in _aiter(stream):
            if delay:
                due += delay
                await anyio.sleep(max(0.0, due - anyio.current_time()))
            yield chunk
    except StreamBreak:
        await _drop(request)


async def _aiter(stream: Iterator[Chunk] | AsyncIterator[Chunk]) -> AsyncIterator[Chunk]:
    if isinstance(stream, AsyncIterator):
        async for item in stream:
            yield item
    else:
        for item in stream:
            yield item


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


class _Admin:
    """`/_mockspike/*`: the Python scripting API over HTTP, for clients in any language."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def guarded(self, handler: Any) -> Any:
        """Bad admin input is a 400 naming the field (access is checked by `Guard`)."""

        async def endpoint(request: Request) -> Response:
            try:
                response: Response = await handler(request)
                return response
            except (spec.SpecError, ValueError, TypeError, KeyError, re.error) as exc:
                return _admin_error(400, "invalid_request_error", f"mockspike admin: {exc}")

        return endpoint

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "profile": self.engine.profile.name})

    async def rules(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"rules": [_rule_json(r) for r in self.engine.script.rules]})
        added = spec.build_rules(await _json_body(request), self.engine.new_rule)
        return JSONResponse({"added": [_rule_json(r) for r in added]}, status_code=201)

    def one_shot(self, verb: str) -> Any:
        async def handler(request: Request) -> Response:
            args = await _json_body(request)
            times = args.pop("times", 1)
            rule_spec = {"times": times, "respond": {verb: args}}
            added = spec.build_rules(rule_spec, self.engine.new_rule)
            return JSONResponse({"added": [_rule_json(r) for r in added]}, status_code=201)

        return handler

    async def requests(self, request: Request) -> Response:
        return JSONResponse({"requests": [e.to_json() for e in self.engine.journal]})

    async def wallets(self, request: Request) -> Response:
        return JSONResponse({"wallets": dict(self.engine.gateway.wallets)})

    async def wallet(self, request: Request) -> Response:
        """GET the balance; POST `{"top_up": credits}` or `{"balance": credits}`."""
        key = request.path_params["key"]
        gateway = self.engine.gateway
        if request.method == "POST":
            change = await _json_body(request)
            if set(change) not in ({"top_up"}, {"balance"}):
                raise spec.SpecError('send {"top_up": credits} or {"balance": credits}')
            ((name, credits),) = change.items()
            if isinstance(credits, bool) or not isinstance(credits, (int, float)):
                raise spec.SpecError(f"{name}: a number of credits, not {credits!r}")
            if not math.isfinite(credits) or abs(credits) > MAX_CREDITS:
                raise spec.SpecError(f"{name}: at most {MAX_CREDITS:g} credits either way")
            if name == "top_up":
                gateway.top_up(key, float(credits))
            else:
                gateway.set_balance(key, float(credits))
        if key not in gateway.wallets:
            return _admin_error(404, "not_found_error", f"mockspike admin: no wallet for {key}")
        return JSONResponse({"key": key, "balance": gateway.wallets[key]})

    async def cache(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.engine.cache.clear()
        entries = [{**e, "api_key": REDACTED} for e in self.engine.cache.entries()]
        return JSONResponse({"entries": entries})  # a cache entry's key is a secret

    async def reset(self, request: Request) -> Response:
        self.engine.reset()
        return JSONResponse({"status": "reset"})


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        data = _json.loads(await request.body())
    except _json.JSONDecodeError as exc:
        raise spec.SpecError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise spec.SpecError("the body must be a JSON object")
    return data


def _rule_json(rule: Any) -> dict[str, Any]:
    return {
        "number": rule.number,
        "rule": rule.describe(),
        "calls": rule.calls,
        "times": rule.times,
    }


class JSONResponse(Response):
    """JSON through orjson: nesting stays within its limits and NaN never breaks a listing."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _json.dumps(content)


def _admin_error(status: int, type: str, message: str) -> Response:
    return JSONResponse(error_body(type, message, new_request_id()), status_code=status)
