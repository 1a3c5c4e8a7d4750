"""The endpoints about models: `count_tokens`, the model list and one model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import _json
from ..contract.validate import check_count_tokens, parse_body
from ..gateway import accounting
from . import openai_chat, paging
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
    models = sorted(engine.profile.models, key=lambda m: m.created_at, reverse=True)
    if openai_chat.asks_openai(call.request):  # the OpenAI SDK's `models.list()`
        call.entry.dialect = openai_chat.DIALECT
        listing = openai_chat.model_list([m.info() for m in models])
        return json_answer(listing, engine.request_id())
    chosen, has_more = paging.page(
        models, [m.id for m in models], paging.query_of(call.request.query)
    )
    return json_answer(paging.listing([m.info() for m in chosen], has_more), engine.request_id())


def get_model(engine: Engine, call: Call) -> WireResponse:
    if openai_chat.asks_openai(call.request):  # the OpenAI SDK's `models.retrieve()`
        call.entry.dialect = openai_chat.DIALECT
        info = engine.profile.model(call.params["model_id"]).info()
        return json_answer(openai_chat.model(info), engine.request_id())
    return json_answer(engine.profile.model(call.params["model_id"]).info(), engine.request_id())
