"""`/_mockspike/*`: the `MockSpike` control surface over HTTP, for clients in any language.

Each route is a thin mapping onto one `MockSpike` method, so a control added in Python is
one route away from HTTP. Guarded: loopback only, unless an admin token is required."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import _json
from ..responders.script_files import SpecError
from ..responders.scripted import Rule

if TYPE_CHECKING:
    from ..mock import MockSpike

ADMIN_TOKEN_HEADER = "x-mockspike-admin-token"
Handler = Callable[["MockSpike", Request], Awaitable[Any]]


def admin_routes(fake: MockSpike) -> list[Route]:
    def route(path: str, handler: Handler, methods: list[str], status: int = 200) -> Route:
        return Route(f"/_mockspike/{path}", _guarded(fake, handler, status), methods=methods)

    return [
        route("health", _health, ["GET"]),
        route("rules", _rules, ["GET"]),
        route("rules", _add_rules, ["POST"], 201),
        route("replies", _one_shot("reply"), ["POST"], 201),
        route("failures", _one_shot("fail"), ["POST"], 201),
        route("faults", _one_shot("fault"), ["POST"], 201),
        route("requests", _requests, ["GET"]),
        route("reset", _reset, ["POST"]),
        route("wallets", _wallets, ["GET"]),
        route("wallets/{key}", _wallet, ["GET"]),
        route("wallets/{key}", _change_wallet, ["POST"]),
        route("cache", _cache, ["GET"]),
        route("cache", _clear_cache, ["DELETE"]),
    ]


async def _health(fake: MockSpike, request: Request) -> Any:
    return {"status": "ok", "profile": fake.profile}


async def _rules(fake: MockSpike, request: Request) -> Any:
    return {"rules": [_rule_json(r) for r in fake.rules]}


async def _add_rules(fake: MockSpike, request: Request) -> Any:
    return {"added": [_rule_json(r) for r in fake.load_script(await _json_body(request))]}


def _one_shot(verb: str) -> Handler:
    async def handler(fake: MockSpike, request: Request) -> Any:
        args = await _json_body(request)
        times = args.pop("times", 1)
        added = fake.load_script({"times": times, "respond": {verb: args}})
        return {"added": [_rule_json(r) for r in added]}

    return handler


async def _requests(fake: MockSpike, request: Request) -> Any:
    return {"requests": [e.to_json() for e in fake.requests]}


async def _reset(fake: MockSpike, request: Request) -> Any:
    fake.reset()
    return {"status": "reset"}


async def _wallets(fake: MockSpike, request: Request) -> Any:
    return {"wallets": fake.wallets}


async def _wallet(fake: MockSpike, request: Request) -> Any:
    key = request.path_params["key"]
    balance = fake.wallet(key)
    if balance is None:
        return _error(404, "not_found_error", f"mockspike admin: no wallet for {key}")
    return {"key": key, "balance": balance}


async def _change_wallet(fake: MockSpike, request: Request) -> Any:
    """`{"top_up": credits}` or `{"balance": credits}`."""
    change = await _json_body(request)
    if set(change) not in ({"top_up"}, {"balance"}):
        raise SpecError('send {"top_up": credits} or {"balance": credits}')
    key = request.path_params["key"]
    if "top_up" in change:
        fake.top_up(key, float(change["top_up"]))
    else:
        fake.set_balance(key, float(change["balance"]))
    return await _wallet(fake, request)


async def _cache(fake: MockSpike, request: Request) -> Any:
    return {"entries": fake.cache}


async def _clear_cache(fake: MockSpike, request: Request) -> Any:
    fake.clear_cache()
    return await _cache(fake, request)


# -- plumbing ------------------------------------------------------------------------------


def _guarded(fake: MockSpike, handler: Handler, status: int) -> Any:
    async def endpoint(request: Request) -> Response:
        refusal = _refusal(request, fake.admin_token)
        if refusal:
            return _error(403, "permission_error", refusal)
        try:
            result = await handler(fake, request)
        except (ValueError, TypeError, KeyError) as exc:  # SpecError is a ValueError
            return _error(400, "invalid_request_error", f"mockspike admin: {exc}")
        return result if isinstance(result, Response) else JSONResponse(result, status)

    return endpoint


def _refusal(request: Request, token: str | None) -> str | None:
    sent = request.headers.get(ADMIN_TOKEN_HEADER)
    if token is not None:
        if sent == token:
            return None
        return f"mockspike admin: send the admin token in the {ADMIN_TOKEN_HEADER} header"
    host = (request.scope.get("server") or ("127.0.0.1", 0))[0]
    if not _is_loopback(host):
        return (
            "mockspike admin: refused on a non-loopback address; start the server "
            "with --admin-token and send it in the " + ADMIN_TOKEN_HEADER + " header"
        )
    return None


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        data = _json.loads(await request.body())
    except _json.JSONDecodeError as exc:
        raise SpecError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError("the body must be a JSON object")
    return data


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "number": rule.number,
        "rule": rule.describe(),
        "calls": rule.calls,
        "times": rule.times,
    }


def _error(status: int, type: str, message: str) -> Response:
    body = {"type": "error", "error": {"type": type, "message": message}}
    return JSONResponse(body, status_code=status)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
