"""The OpenAPI 3.1 description served at `/openapi.json`: paths and statuses from the
endpoint table (`engine/endpoints.py`), schemas from the ones the validator uses (requests)
and `schemas/responses.json` (answers)."""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

from mockspike._version import __version__
from mockspike.contract.catalog import load_profile
from mockspike.contract.validate import count_tokens_schema, message_schema
from mockspike.engine.endpoints import ENDPOINTS, Endpoint
from mockspike.render import openai_chat

_REF = "#/components/schemas/"


def _relocate(schema: Any) -> Any:
    """Point `#/$defs/x` references at `#/components/schemas/x`."""
    if isinstance(schema, dict):
        return {
            key: (value.replace("#/$defs/", _REF) if key == "$ref" else _relocate(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_relocate(item) for item in schema]
    return schema


def _request(schema: dict[str, Any]) -> dict[str, Any]:
    relocated: dict[str, Any] = _relocate(
        {k: v for k, v in schema.items() if k not in ("$defs", "$schema", "$id")}
    )
    return relocated


def _json_content(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF + name}}}


def _content(name: str, media: str) -> dict[str, Any]:
    return {media: {"schema": {"$ref": _REF + name}}}


def _errors(*statuses: int, envelope: str = "ErrorEnvelope") -> dict[str, Any]:
    return {str(s): {"description": "error", "content": _json_content(envelope)} for s in statuses}


def _with_models(request: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The served fake knows its catalog: `model` is one of its ids or aliases (any other
    name is the API's 404)."""
    properties = {**request["properties"], "model": {"type": "string", "enum": names}}
    return {**request, "properties": properties}


@functools.cache
def _document(profile: str = "bytespike") -> dict[str, Any]:
    answers = json.loads(
        resources.files("mockspike.contract").joinpath("schemas/responses.json").read_text("utf-8")
    )
    answers.pop("$comment", None)
    bulk = json.loads(
        resources.files("mockspike.contract")
        .joinpath("schemas/batches_files.json")
        .read_text("utf-8")
    )
    bulk.pop("$comment", None)
    names = [name for model in load_profile(profile).models for name in (model.id, *model.aliases)]
    components = {
        **_relocate(message_schema()["$defs"]),
        "MessagesRequest": _with_models(_request(message_schema()), names),
        "CountTokensRequest": _with_models(_request(count_tokens_schema()), names),
        **answers,
        **bulk,
        **_relocate(openai_chat.request_schema()["$defs"]),
        "ChatCompletionRequest": _with_models(_request(openai_chat.request_schema()), names),
    }
    profile_ = load_profile(profile)
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in ENDPOINTS:
        if endpoint.name in profile_.not_served:
            continue
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(
            endpoint, profile_.statuses
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mockspike: the Claude Messages API (ByteSpike gateway)",
            "version": __version__,
        },
        "security": [{"apiKey": []}],
        "components": {
            "schemas": components,
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
        },
        "paths": paths,
    }


_VERSION_HEADER = {
    "name": "anthropic-version",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "enum": ["2023-06-01"]},
}


def _operation(endpoint: Endpoint, profile_statuses: frozenset[int]) -> dict[str, Any]:
    """One operation from its row in the endpoint table; error statuses are those the
    endpoint can answer that the profile sends."""
    versioned = endpoint.needs_version and endpoint.version_header
    parameters: list[dict[str, Any]] = [_VERSION_HEADER] if versioned else []
    parameters += [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in endpoint.params
    ]
    parameters += list(endpoint.query)
    content = _content(endpoint.returns, endpoint.returns_media)
    if endpoint.streams:
        content["text/event-stream"] = {"schema": {"type": "string"}}
    statuses = profile_statuses if endpoint.statuses is None else endpoint.statuses
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
    }
    if parameters:
        operation["parameters"] = parameters
    if endpoint.request_schema:
        operation["requestBody"] = {
            "required": True,
            "content": _content(endpoint.request_schema, endpoint.request_media),
        }
    operation["responses"] = {
        "200": {"description": endpoint.returns_text, "content": content},
        **_errors(*sorted(set(statuses) & profile_statuses), envelope=_envelope(endpoint)),
    }
    return operation


def _envelope(endpoint: Endpoint) -> str:
    """The error envelope of the endpoint's dialect."""
    return "ChatErrorEnvelope" if endpoint.dialect == openai_chat.DIALECT else "ErrorEnvelope"


def openapi_document(profile: str = "bytespike") -> dict[str, Any]:
    """A fresh copy of the description for `profile` (callers may change it)."""
    return copy.deepcopy(_document(profile))
