"""The OpenAPI 3.1 description served at `/openapi.json`, built from the same JSON Schemas
the validator uses (requests) and `schemas/responses.json` (answers)."""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

from .._version import __version__
from ..contract.catalog import load_profile
from ..contract.validate import count_tokens_schema, message_schema

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


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(s): {"description": "error", "content": _json_content("ErrorEnvelope")}
        for s in statuses
    }


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
    names = [name for model in load_profile(profile).models for name in (model.id, *model.aliases)]
    components = {
        **_relocate(message_schema()["$defs"]),
        "MessagesRequest": _with_models(_request(message_schema()), names),
        "CountTokensRequest": _with_models(_request(count_tokens_schema()), names),
        **answers,
    }
    version = {
        "name": "anthropic-version",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "enum": ["2023-06-01"]},
    }
    common = _errors(400, 401, 402, 403, 404, 413, 422, 429, 500, 529)
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
        "paths": {
            "/v1/messages": {
                "post": {
                    "operationId": "createMessage",
                    "parameters": [version],
                    "requestBody": {"required": True, "content": _json_content("MessagesRequest")},
                    "responses": {
                        "200": {
                            "description": "a message, or its events when stream is true",
                            "content": {
                                **_json_content("Message"),
                                "text/event-stream": {"schema": {"type": "string"}},
                            },
                        },
                        **common,
                    },
                }
            },
            "/v1/messages/count_tokens": {
                "post": {
                    "operationId": "countTokens",
                    "parameters": [version],
                    "requestBody": {
                        "required": True,
                        "content": _json_content("CountTokensRequest"),
                    },
                    "responses": {
                        "200": {"description": "the count", "content": _json_content("TokenCount")},
                        **common,
                    },
                }
            },
            "/v1/models": {
                "get": {
                    "operationId": "listModels",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                        },
                        {"name": "after_id", "in": "query", "schema": {"type": "string"}},
                        {"name": "before_id", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "models, newest first",
                            "content": _json_content("ModelList"),
                        },
                        **common,
                    },
                }
            },
            "/v1/models/{model_id}": {
                "get": {
                    "operationId": "getModel",
                    "parameters": [
                        {
                            "name": "model_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {"description": "one model", "content": _json_content("ModelInfo")},
                        **common,
                    },
                }
            },
        },
    }


def openapi_document(profile: str = "bytespike") -> dict[str, Any]:
    """A fresh copy of the description for `profile` (callers may change it)."""
    return copy.deepcopy(_document(profile))
