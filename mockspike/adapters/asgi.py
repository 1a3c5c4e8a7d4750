"""The Starlette adapter: HTTP in, `Engine.handle`, HTTP out; streams sent chunk by chunk
with their pacing; faults that drop or cut the connection; the admin API."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .. import _json
from ..core.engine import Engine
from ..core.wire import Chunk, StreamBreak, WireRequest, WireResponse
from ..responders import script_files as spec
from .openapi import openapi_document
from .pulls import pull

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
ADMIN_TOKEN_HEADER = "x-mockspike-admin-token"


def create_app(engine: Engine, admin_token: str | None = None) -> Starlette:
    """A Starlette app that answers every API path through `engine`, and `/_mockspike/`."""

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

    admin = _Admin(engine, admin_token)
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
    chunks = pull(result.stream) if result.blocking else result.stream
    return StreamingResponse(
        _chunks(chunks, request),
        status_code=result.status,
        headers=result.headers,
        media_type=result.headers.get("content-type"),
    )


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

    def __init__(self, engine: Engine, token: str | None) -> None:
        self.engine = engine
        self.token = token

    def guarded(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            refusal = self._refusal(request)
            if refusal:
                return _admin_error(403, "permission_error", refusal)
            try:
                response: Response = await handler(request)
                return response
            except (spec.SpecError, ValueError, TypeError, KeyError) as exc:
                return _admin_error(400, "invalid_request_error", f"mockspike admin: {exc}")

        return endpoint

    def _refusal(self, request: Request) -> str | None:
        sent = request.headers.get(ADMIN_TOKEN_HEADER)
        if self.token is not None:
            return (
                None
                if sent == self.token
                else (f"mockspike admin: send the admin token in the {ADMIN_TOKEN_HEADER} header")
            )
        host = (request.scope.get("server") or ("127.0.0.1", 0))[0]
        if not _is_loopback(host):
            return (
                "mockspike admin: refused on a non-loopback address; start the server "
                "with --admin-token and send it in the " + ADMIN_TOKEN_HEADER + " header"
            )
        return None

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
            if "top_up" in change:
                gateway.top_up(key, float(change["top_up"]))
            else:
                gateway.set_balance(key, float(change["balance"]))
        if key not in gateway.wallets:
            return _admin_error(404, "not_found_error", f"mockspike admin: no wallet for {key}")
        return JSONResponse({"key": key, "balance": gateway.wallets[key]})

    async def cache(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.engine.cache.clear()
        return JSONResponse({"entries": self.engine.cache.entries()})

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


def _admin_error(status: int, type: str, message: str) -> Response:
    body = {"type": "error", "error": {"type": type, "message": message}}
    return JSONResponse(body, status_code=status)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
