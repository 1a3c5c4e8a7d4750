"""The one table of endpoints: method, path, key scope, header rule, schemas, handler,
summary and error statuses. The router, the key scopes a gateway configuration may name,
the OpenAPI paths and the plugin's statistics all derive from it.

A new endpoint is one row here plus one handler module (a function `(Context) ->
WireResponse`, `context.py`). The engine imports this table, the table imports the
handlers, and the handlers import neither."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mockspike.engine import (
    batches,
    batches_api,
    chat_completions,
    files,
    files_api,
    messages,
    models_api,
)
from mockspike.engine.context import EMPTY, Handler
from mockspike.gateway.keys import SCOPES
from mockspike.model.errors import ApiError


@dataclass(frozen=True)
class Endpoint:
    name: str
    """Also the key scope a gateway configuration names (`scopes.endpoints`)."""
    method: str
    path: str
    """With `{param}` placeholders for one path segment each."""
    handler: Handler
    summary: str
    operation_id: str
    returns: str
    """The OpenAPI component of a 200 answer, and what it is."""
    returns_text: str
    needs_version: bool = False
    """`anthropic-version`, a JSON content type and the profile's body-size limit apply."""
    request_schema: str | None = None
    """The OpenAPI component of the request body (the validator's own schema)."""
    streams: bool = False
    """A 200 may also be `text/event-stream`."""
    query: tuple[dict[str, Any], ...] = ()
    """OpenAPI query parameters."""
    statuses: tuple[int, ...] | None = None
    """The error statuses it can answer (None: any the profile sends, as a script may)."""
    billed: bool = False
    """Its answers cost credits (the plugin's summary counts them)."""
    local: bool = False
    """Answered from the fake's own state even when a front stage (a cassette) answers
    the rest (batches and files live here, not in the cassette)."""
    max_body: int | None = None
    """Its own body-size limit (None: the profile's); adapters stop reading past it."""
    too_large: Callable[[], ApiError] | None = None
    """Its own 413 past `max_body` (None: the profile's)."""
    request_media: str = "application/json"
    """The media type of the request body in OpenAPI."""
    returns_media: str = "application/json"
    """The media type of a 200 answer in OpenAPI."""
    dialect: str = "anthropic"
    """The API it speaks, errors included: `anthropic`, or `openai` (`openai_chat.py`)."""
    version_header: bool = True
    """With `needs_version`: whether `anthropic-version` is required (the OpenAI SDK
    sends none)."""

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", self.path) + "$")


_COMMON = (401, 403, 405, 500)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        name="messages",
        method="POST",
        path="/v1/messages",
        handler=messages.handle,
        summary="Create a message (JSON, or server-sent events when `stream` is true)",
        operation_id="createMessage",
        returns="Message",
        returns_text="a message, or its events when stream is true",
        needs_version=True,
        request_schema="MessagesRequest",
        streams=True,
        billed=True,
    ),
    Endpoint(
        name="count_tokens",
        method="POST",
        path="/v1/messages/count_tokens",
        handler=models_api.count_tokens,
        summary="Count the input tokens of a message request",
        operation_id="countTokens",
        returns="TokenCount",
        returns_text="the count",
        needs_version=True,
        request_schema="CountTokensRequest",
        statuses=(400, 404, 413, *_COMMON),
    ),
    Endpoint(
        name="models",
        method="GET",
        path="/v1/models",
        handler=models_api.list_models,
        summary="List the models, newest first",
        operation_id="listModels",
        returns="ModelList",
        returns_text="models, newest first",
        query=(
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
            },
            {"name": "after_id", "in": "query", "schema": {"type": "string"}},
            {"name": "before_id", "in": "query", "schema": {"type": "string"}},
        ),
        statuses=(400, 404, *_COMMON),
    ),
    Endpoint(
        name="models",
        method="GET",
        path="/v1/models/{model_id}",
        handler=models_api.get_model,
        summary="One model by id or alias",
        operation_id="getModel",
        returns="ModelInfo",
        returns_text="one model",
        statuses=(404, *_COMMON),
    ),
)

_BATCH_ID = "/v1/messages/batches/{message_batch_id}"
_FILE_ID = "/v1/files/{file_id}"
_PAGING = (
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
    {"name": "after_id", "in": "query", "schema": {"type": "string"}},
    {"name": "before_id", "in": "query", "schema": {"type": "string"}},
)
_BATCH: dict[str, Any] = {"name": "message_batches", "local": True}
_FILES: dict[str, Any] = {"name": "files", "local": True}

ENDPOINTS += (
    Endpoint(
        **_BATCH,
        method="POST",
        path="/v1/messages/batches",
        handler=batches_api.create,
        summary="Create a Message Batch (answered later, at half price)",
        operation_id="createMessageBatch",
        returns="MessageBatch",
        returns_text="the batch, in progress",
        needs_version=True,
        request_schema="BatchCreateRequest",
        statuses=(400, 413, *_COMMON),
        max_body=batches.MAX_BYTES,
        too_large=batches.too_large,
    ),
    Endpoint(
        **_BATCH,
        method="GET",
        path="/v1/messages/batches",
        handler=batches_api.list_batches,
        summary="List Message Batches, newest first",
        operation_id="listMessageBatches",
        returns="MessageBatchList",
        returns_text="batches, newest first",
        query=_PAGING,
        statuses=(400, 404, *_COMMON),
    ),
    Endpoint(
        **_BATCH,
        method="GET",
        path=_BATCH_ID,
        handler=batches_api.retrieve,
        summary="One Message Batch (poll it until `processing_status` is `ended`)",
        operation_id="getMessageBatch",
        returns="MessageBatch",
        returns_text="the batch",
        statuses=(404, *_COMMON),
    ),
    Endpoint(
        **_BATCH,
        method="POST",
        path=_BATCH_ID + "/cancel",
        handler=batches_api.cancel,
        summary="Cancel a Message Batch: `canceling`, then `ended`",
        operation_id="cancelMessageBatch",
        returns="MessageBatch",
        returns_text="the batch, canceling",
        statuses=(404, *_COMMON),
    ),
    Endpoint(
        **_BATCH,
        method="DELETE",
        path=_BATCH_ID,
        handler=batches_api.delete,
        summary="Delete an ended Message Batch",
        operation_id="deleteMessageBatch",
        returns="DeletedMessageBatch",
        returns_text="the deleted batch's id",
        statuses=(400, 404, *_COMMON),
    ),
    Endpoint(
        **_BATCH,
        method="GET",
        path=_BATCH_ID + "/results",
        handler=batches_api.results,
        summary="The results of an ended Message Batch, one JSON object a line",
        operation_id="getMessageBatchResults",
        returns="Binary",
        returns_text="JSONL: {custom_id, result} a line",
        returns_media="application/binary",
        statuses=(400, 404, *_COMMON),
    ),
    Endpoint(
        **_FILES,
        method="POST",
        path="/v1/files",
        handler=files_api.upload,
        summary="Upload a file (multipart/form-data, at most 500 MB)",
        operation_id="uploadFile",
        returns="FileMetadata",
        returns_text="the file's metadata",
        request_schema="FileUpload",
        request_media="multipart/form-data",
        statuses=(400, 413, *_COMMON),
        max_body=files.MAX_UPLOAD_BYTES,
        too_large=files.too_large,
    ),
    Endpoint(
        **_FILES,
        method="GET",
        path="/v1/files",
        handler=files_api.list_files,
        summary="List files, newest first",
        operation_id="listFiles",
        returns="FileList",
        returns_text="files, newest first",
        query=(*_PAGING, {"name": "page", "in": "query", "schema": {"type": "string"}}),
        statuses=(400, 404, *_COMMON),
    ),
    Endpoint(
        **_FILES,
        method="GET",
        path=_FILE_ID,
        handler=files_api.retrieve,
        summary="A file's metadata",
        operation_id="getFileMetadata",
        returns="FileMetadata",
        returns_text="the file's metadata",
        statuses=(404, *_COMMON),
    ),
    Endpoint(
        **_FILES,
        method="GET",
        path=_FILE_ID + "/content",
        handler=files_api.download,
        summary="Download a file a tool created (uploaded files are not downloadable)",
        operation_id="downloadFile",
        returns="Binary",
        returns_text="the file's bytes",
        returns_media="application/octet-stream",
        statuses=(400, 404, *_COMMON),
    ),
    Endpoint(
        **_FILES,
        method="DELETE",
        path=_FILE_ID,
        handler=files_api.delete,
        summary="Delete a file",
        operation_id="deleteFile",
        returns="DeletedFile",
        returns_text="the deleted file's id",
        statuses=(404, *_COMMON),
    ),
)

ENDPOINTS += (
    Endpoint(
        name="chat_completions",
        method="POST",
        path="/v1/chat/completions",
        handler=chat_completions.handle,
        summary="Create a chat completion through the OpenAI SDK compatibility layer "
        "(JSON, or `chat.completion.chunk` events when `stream` is true)",
        operation_id="createChatCompletion",
        returns="ChatCompletion",
        returns_text="a chat completion, or its chunks when stream is true",
        needs_version=True,
        version_header=False,
        request_schema="ChatCompletionRequest",
        streams=True,
        billed=True,
        dialect="openai",
    ),
)

if tuple(dict.fromkeys(e.name for e in ENDPOINTS)) != SCOPES:
    raise AssertionError(
        "the endpoint names, in the table's order, are the key scopes: list a new one in "
        "gateway/keys.py's SCOPES"
    )
BILLED: frozenset[str] = frozenset(e.name for e in ENDPOINTS if e.billed)


class Router:
    """Finds the endpoint of a method and path: 404 for an unknown path, 405 for a known
    path with another method. Exact paths are two dict lookups; templated ones a regex."""

    def __init__(self, endpoints: tuple[Endpoint, ...] = ENDPOINTS) -> None:
        self._exact: dict[str, dict[str, tuple[Endpoint, Mapping[str, str]]]] = {}
        self._templated: list[tuple[re.Pattern[str], Endpoint]] = []
        for endpoint in endpoints:
            if endpoint.params:
                self._templated.append((endpoint.pattern, endpoint))
            else:
                self._exact.setdefault(endpoint.path, {})[endpoint.method] = (endpoint, EMPTY)

    def route(self, method: str, path: str) -> tuple[Endpoint, Mapping[str, str]]:
        methods = self._exact.get(path)
        if methods is None and path.endswith("/"):
            path = path.rstrip("/") or "/"
            methods = self._exact.get(path)
        if methods is not None:
            found = methods.get(method)
            if found is not None:
                return found
        known = methods is not None
        for pattern, candidate in self._templated:
            matched = pattern.match(path)
            if matched is not None:
                if candidate.method == method:
                    return candidate, matched.groupdict()
                known = True
        if known:
            raise ApiError(405, "Method Not Allowed")
        raise ApiError(404, "Not Found")


ROUTER = Router()
