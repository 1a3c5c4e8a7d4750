"""The endpoints about models: `count_tokens`, the model list and one model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from mockspike import _json
from mockspike.contract.validate import check_count_tokens, parse_body
from mockspike.engine.files import resolve_files
from mockspike.gateway import accounting
from mockspike.model import paging
from mockspike.model.errors import ApiError
from mockspike.model.wire import WireResponse
from mockspike.render import openai_chat

if TYPE_CHECKING:
    from mockspike.engine.endpoints import Call
    from mockspike.engine.engine import Engine

JSON = "application/json"


def json_answer(value: Any, request_id: str) -> WireResponse:
    """A 200 with a JSON body."""
    return WireResponse(200, {"content-type": JSON, "request-id": request_id}, _json.dumps(value))


def count_tokens(engine: Engine, call: Call) -> WireResponse:
    body = call.entry.body = parse_body(call.request.body)
    body = resolve_files(engine.files, body, engine.clock.now())
    check_count_tokens(body, engine.profile, call.request.header("anthropic-beta"))
    return json_answer({"input_tokens": accounting.input_tokens(body)}, engine.request_id())


LIFECYCLES = ("active", "deprecated", "retired")


def _lifecycles(query: str) -> tuple[str, ...]:
    """`lifecycle[]=…` (the SDKs' bracket form) or `lifecycle=…`, repeated: the stages to
    list; by default active and deprecated models (retired ones only when asked for)."""
    asked = [
        v for k, vs in parse_qs(query).items() if k in ("lifecycle", "lifecycle[]") for v in vs
    ]
    for value in asked:
        if value not in LIFECYCLES:
            raise ApiError(400, "lifecycle: Input should be 'active', 'deprecated' or 'retired'")
    return tuple(asked) or ("active", "deprecated")


def list_models(engine: Engine, call: Call) -> WireResponse:
    if openai_chat.asks_openai(call.request):  # the OpenAI SDK's `models.list()`
        call.entry.dialect = openai_chat.DIALECT
        served = sorted(engine.profile.models, key=lambda m: m.created_at, reverse=True)
        listing = openai_chat.model_list([m.info() for m in served])
        return json_answer(listing, engine.request_id())
    stages = _lifecycles(call.request.query)
    models = sorted(
        (m for m in (*engine.profile.models, *engine.profile.retired) if m.lifecycle in stages),
        key=lambda m: m.created_at,
        reverse=True,
    )
    chosen, has_more = paging.page(
        models, [m.id for m in models], paging.query_of(call.request.query)
    )
    return json_answer(paging.listing([m.info() for m in chosen], has_more), engine.request_id())


def get_model(engine: Engine, call: Call) -> WireResponse:
    if openai_chat.asks_openai(call.request):  # the OpenAI SDK's `models.retrieve()`
        call.entry.dialect = openai_chat.DIALECT
        info = engine.profile.model(call.params["model_id"]).info()
        return json_answer(openai_chat.model(info), engine.request_id())
    model = engine.profile.model_info(call.params["model_id"])
    return json_answer(model.info(), engine.request_id())
