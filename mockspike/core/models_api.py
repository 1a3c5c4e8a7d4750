"""The endpoints about models: `count_tokens`, the model list and one model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from .. import _json
from ..contract.errors import ApiError
from ..contract.validate import check_count_tokens, parse_body
from ..gateway import accounting
from .wire import WireResponse

if TYPE_CHECKING:
    from .endpoints import Call
    from .engine import Engine

JSON = "application/json"


def json_answer(value: Any, request_id: str) -> WireResponse:
    """A 200 with a JSON body."""
    return WireResponse(200, {"content-type": JSON, "request-id": request_id}, _json.dumps(value))


def count_tokens(engine: Engine, call: Call) -> WireResponse:
    body = call.entry.body = parse_body(call.request.body)
    body = engine.files.resolve(body, engine.clock.now())
    check_count_tokens(body, engine.profile, call.request.header("anthropic-beta"))
    return json_answer({"input_tokens": accounting.input_tokens(body)}, engine.request_id())


def list_models(engine: Engine, call: Call) -> WireResponse:
    query = {k: v[-1] for k, v in parse_qs(call.request.query).items()}
    models = sorted(engine.profile.models, key=lambda m: m.created_at, reverse=True)
    ids = [m.id for m in models]
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        raise ApiError(400, "limit: Input should be a valid integer") from None
    if not 1 <= limit <= 1000:
        raise ApiError(400, "limit: Input should be between 1 and 1000")
    if "after_id" in query:
        start = _position(ids, query["after_id"], "after_id") + 1
        page = models[start : start + limit]
        has_more = start + limit < len(models)
    elif "before_id" in query:
        end = _position(ids, query["before_id"], "before_id")
        page = models[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        page = models[:limit]
        has_more = limit < len(models)
    data = [m.info() for m in page]
    return json_answer(
        {
            "data": data,
            "has_more": has_more,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        },
        engine.request_id(),
    )


def get_model(engine: Engine, call: Call) -> WireResponse:
    return json_answer(engine.profile.model(call.params["model_id"]).info(), engine.request_id())


def _position(ids: list[str], value: str, name: str) -> int:
    try:
        return ids.index(value)
    except ValueError:
        raise ApiError(404, f"{name}: {value}") from None
