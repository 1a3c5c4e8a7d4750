"""The endpoints about models: `count_tokens`, the model list and one model."""

from __future__ import annotations

from urllib.parse import parse_qs

from mockspike.contract.validate import check_count_tokens, parse_body
from mockspike.engine.context import Context
from mockspike.engine.files import resolve_files
from mockspike.model import paging, tokens
from mockspike.model.errors import ApiError
from mockspike.model.wire import WireResponse, json_answer
from mockspike.render import openai_chat


def count_tokens(call: Context) -> WireResponse:
    services = call.services
    body = call.entry.body = parse_body(call.request.body)
    body = resolve_files(services.files, body, services.clock.now())
    check_count_tokens(body, services.profile, call.request.header("anthropic-beta"))
    return json_answer({"input_tokens": tokens.input_tokens(body)})


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


def list_models(call: Context) -> WireResponse:
    profile = call.services.profile
    if openai_chat.asks_openai(call.request):  # the OpenAI SDK's `models.list()`
        call.entry.dialect = openai_chat.DIALECT
        served = sorted(profile.models, key=lambda m: m.created_at, reverse=True)
        listing = openai_chat.model_list([m.info() for m in served])
        return json_answer(listing)
    stages = _lifecycles(call.request.query)
    models = sorted(
        (m for m in (*profile.models, *profile.retired) if m.lifecycle in stages),
        key=lambda m: m.created_at,
        reverse=True,
    )
    chosen, has_more = paging.page(
        models, [m.id for m in models], paging.query_of(call.request.query)
    )
    return json_answer(paging.listing([m.info() for m in chosen], has_more))


def get_model(call: Context) -> WireResponse:
    profile = call.services.profile
    if openai_chat.asks_openai(call.request):  # the OpenAI SDK's `models.retrieve()`
        call.entry.dialect = openai_chat.DIALECT
        info = profile.model(call.params["model_id"]).info()
        return json_answer(openai_chat.model(info))
    return json_answer(profile.model_info(call.params["model_id"]).info())
