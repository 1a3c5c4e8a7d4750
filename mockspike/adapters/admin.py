"""`/_mockspike/*`: the fake's control surface (`control.Controls`, which `MockSpike` is)
over HTTP, for clients in any language.

Each route is a thin mapping onto one method of the fake, so a control added in Python is
one route away from HTTP. Who may call them is decided before any route, by `guard.py`;
input of the wrong type is a 400 naming the field; nothing here shows a secret."""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockspike import _json
from mockspike._ids import random_id
from mockspike._redact import REDACTED
from mockspike.adapters.control import Controls
from mockspike.adapters.dashboard import dashboard_routes
from mockspike.adapters.guard import ADMIN_TOKEN_HEADER
from mockspike.model.errors import ApiError, error_body
from mockspike.script.files import SpecError
from mockspike.script.rules import Rule

__all__ = ["ADMIN_TOKEN_HEADER", "admin_error", "admin_routes"]
MAX_CREDITS = 1e12
"""The largest wallet change or balance the admin API takes (1 credit = 1 US cent)."""
Handler = Callable[[Controls, Request], Awaitable[Any]]


def admin_routes(fake: Controls) -> list[Route]:
    def route(path: str, handler: Handler, methods: list[str], status: int = 200) -> Route:
        return Route(f"/_mockspike/{path}", _guarded(fake, handler, status), methods=methods)

    return [
        route("health", _health, ["GET"]),
        route("rules", _rules, ["GET"]),
        route("rules", _add_rules, ["POST"], 201),
        route("rules/{number}", _remove_rule, ["DELETE"]),
        route("replies", _one_shot("reply"), ["POST"], 201),
        route("failures", _one_shot("fail"), ["POST"], 201),
        route("faults", _one_shot("fault"), ["POST"], 201),
        route("script", _script, ["GET"]),
        route("scenarios", _scenarios, ["GET"]),
        route("scenarios/reset", _reset_scenarios, ["POST"]),
        route("scenarios/{name}", _set_scenario, ["PUT"]),
        route("requests", _requests, ["GET"]),
        route("reset", _reset, ["POST"]),
        route("wallets", _wallets, ["GET"]),
        route("wallets/{key}", _wallet, ["GET"]),
        route("wallets/{key}", _change_wallet, ["POST"]),
        route("cache", _cache, ["GET"]),
        route("cache", _clear_cache, ["DELETE"]),
        *dashboard_routes(route),
        route("batches", _batches, ["GET"]),
        route("batches", _clear_batches, ["DELETE"]),
        route("batches/settings", _batch_settings, ["GET", "POST"]),
        route("files", _files, ["GET"]),
        route("files", _clear_files, ["DELETE"]),
    ]


async def _health(fake: Controls, request: Request) -> Any:
    return {"status": "ok", "profile": fake.profile}


async def _rules(fake: Controls, request: Request) -> Any:
    return {"rules": [_rule_json(r) for r in fake.rules]}


async def _add_rules(fake: Controls, request: Request) -> Any:
    return {"added": [_rule_json(r) for r in fake.load_script(await _json_body(request))]}


def _one_shot(verb: str) -> Handler:
    async def handler(fake: Controls, request: Request) -> Any:
        args = await _json_body(request)
        times = args.pop("times", 1)
        return {"added": [_rule_json(fake.queue({verb: args}, times))]}

    return handler


async def _remove_rule(fake: Controls, request: Request) -> Any:
    number = request.path_params["number"]
    if not number.isdigit():
        raise SpecError(f"rules/{number}: a rule number, as GET /_mockspike/rules lists them")
    try:
        return {"removed": _rule_json(fake.remove_rule(int(number)))}
    except LookupError as exc:
        return admin_error(404, "not_found_error", f"mockspike admin: {exc.args[0]}")


async def _script(fake: Controls, request: Request) -> Any:
    """The script sources loaded (`--script`): their files, rules, when they were loaded and
    why the newest version was refused, if it was."""
    return {"sources": [w.status.to_json() for w in fake.watchers]}


async def _scenarios(fake: Controls, request: Request) -> Any:
    return {"scenarios": fake.scenarios}


async def _set_scenario(fake: Controls, request: Request) -> Any:
    name = request.path_params["name"]
    state = (await _json_body(request)).get("state")
    if not isinstance(state, str) or not state:
        raise SpecError(f'scenarios/{name}: give {{"state": "…"}}, a non-empty string')
    fake.set_scenario(name, state)
    return {"scenario": name, "state": state}


async def _reset_scenarios(fake: Controls, request: Request) -> Any:
    fake.reset_scenarios()
    return {"scenarios": fake.scenarios}


async def _requests(fake: Controls, request: Request) -> Any:
    """The journal; `?unmatched=true`: only requests nothing could answer."""
    unmatched = request.query_params.get("unmatched", "").lower() in ("1", "true", "yes")
    entries = fake.requests.unmatched if unmatched else list(fake.requests)
    return {"requests": [e.to_json() for e in entries]}


async def _reset(fake: Controls, request: Request) -> Any:
    fake.reset()
    return {"status": "reset"}


async def _wallets(fake: Controls, request: Request) -> Any:
    return {"wallets": fake.wallets}


async def _wallet(fake: Controls, request: Request) -> Any:
    key = request.path_params["key"]
    balance = fake.wallet(key)
    if balance is None:
        return admin_error(404, "not_found_error", f"mockspike admin: no wallet for {key}")
    return {"key": key, "balance": balance}


async def _change_wallet(fake: Controls, request: Request) -> Any:
    """`{"top_up": credits}` or `{"balance": credits}`."""
    change = await _json_body(request)
    if set(change) not in ({"top_up"}, {"balance"}):
        raise SpecError('send {"top_up": credits} or {"balance": credits}')
    key = request.path_params["key"]
    ((name, credits),) = change.items()
    if isinstance(credits, bool) or not isinstance(credits, (int, float)):
        raise SpecError(f"{name}: a number of credits, not {credits!r}")
    if not math.isfinite(credits) or abs(credits) > MAX_CREDITS:
        raise SpecError(f"{name}: at most {MAX_CREDITS:g} credits either way")
    if name == "top_up":
        fake.top_up(key, float(credits))
    else:
        fake.set_balance(key, float(credits))
    return await _wallet(fake, request)


async def _cache(fake: Controls, request: Request) -> Any:
    return {"entries": [{**e, "api_key": REDACTED} for e in fake.cache]}  # keys are secrets


async def _clear_cache(fake: Controls, request: Request) -> Any:
    fake.clear_cache()
    return await _cache(fake, request)


async def _batches(fake: Controls, request: Request) -> Any:
    return {"batches": fake.batches.list()}


async def _clear_batches(fake: Controls, request: Request) -> Any:
    fake.batches.clear()
    return await _batches(fake, request)


async def _batch_settings(fake: Controls, request: Request) -> Any:
    """GET the settings of new batches; POST `{"processing_seconds": …}` to change them."""
    changes = await _json_body(request) if request.method == "POST" else {}
    return asdict(fake.batches.settings(**changes))


async def _files(fake: Controls, request: Request) -> Any:
    return {"files": fake.files.list()}


async def _clear_files(fake: Controls, request: Request) -> Any:
    fake.files.clear()
    return await _files(fake, request)


# -- plumbing ------------------------------------------------------------------------------


def _guarded(fake: Controls, handler: Handler, status: int) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            result = await handler(fake, request)
        except (ValueError, TypeError, KeyError, re.error) as exc:  # SpecError is a ValueError
            return admin_error(400, "invalid_request_error", f"mockspike admin: {exc}")
        except ApiError as exc:  # a shared state that cannot be reached
            response = admin_error(exc.status, exc.type, f"mockspike admin: {exc.message}")
            response.headers.update(exc.headers)
            return response
        return result if isinstance(result, Response) else JSONResponse(result, status)

    return endpoint


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
        "calls": rule.call_count,
        "times": rule.times,
        "scenario": rule.scenario,
        "state": rule.state,
        "next_state": rule.next_state,
    }


class JSONResponse(Response):
    """JSON through orjson: nesting stays within its limits and NaN never breaks a listing."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _json.dumps(content)


def admin_error(status: int, type: str, message: str) -> Response:
    """The error envelope, with a request id like every other answer."""
    return JSONResponse(error_body(type, message, random_id("req_011C", 20)), status_code=status)
