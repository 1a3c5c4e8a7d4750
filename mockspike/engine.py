"""The engine: one pure function from a wire request to a wire response.

It knows nothing of Starlette, sockets or httpx; the server and transports adapt to it.
The pipeline for `POST /v1/messages`: gateway (who) -> contract (is it valid) ->
responder (what to say) -> accounting (what it costs) -> render (JSON or SSE).
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from . import _json, accounting, gateway, sse
from .contract.catalog import Profile, load_profile
from .contract.errors import ApiError, error_body
from .contract.validate import check_count_tokens, check_message_request, parse_body
from .render import Rendered
from .responders import synthetic_reply
from .responders.synthetic import request_seed
from .wire import WireRequest, WireResponse

JSON = "application/json"
_ID_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_NEEDS_VERSION = ("/v1/messages", "/v1/messages/count_tokens")


def new_request_id() -> str:
    return "req_011C" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


class Engine:
    """The fake gateway's behaviour for one profile."""

    def __init__(self, profile: str | Profile = "bytespike") -> None:
        self.profile = load_profile(profile) if isinstance(profile, str) else profile
        self._sequence = itertools.count()
        self._routes: dict[tuple[str, str], Callable[[WireRequest], WireResponse]] = {
            ("POST", "/v1/messages"): self._messages,
            ("POST", "/v1/messages/count_tokens"): self._count_tokens,
            ("GET", "/v1/models"): self._list_models,
        }

    # -- entry points ------------------------------------------------------------------

    def handle(self, request: WireRequest) -> WireResponse:
        """Answer one request. Never raises for anything a client can send."""
        try:
            return self._route(request)
        except ApiError as error:
            return self.reject(error)

    def reject(self, error: ApiError) -> WireResponse:
        """The error envelope, for the engine and for adapters that refuse early (413)."""
        request_id = new_request_id()
        headers = {"content-type": JSON, "request-id": request_id, **error.headers}
        return WireResponse(
            error.status, headers, _json.dumps(error_body(error.type, error.message, request_id))
        )

    def too_large(self) -> WireResponse:
        """The 413 for adapters that stop reading a body past the profile's limit."""
        return self.reject(self._too_large_error())

    def _too_large_error(self) -> ApiError:
        limit = self.profile.max_body_bytes
        return ApiError(413, f"Request exceeds the maximum size of {limit} bytes.")

    # -- routing -----------------------------------------------------------------------

    def _route(self, request: WireRequest) -> WireResponse:
        path = request.path.rstrip("/") or "/"
        handler = self._routes.get((request.method, path))
        if handler is None and path.startswith("/v1/models/") and path.count("/") == 3:
            handler = self._retrieve_model if request.method == "GET" else None
            if handler is None:
                raise ApiError(405, "Method Not Allowed")
        if handler is None:
            if any(p == path for _, p in self._routes):
                raise ApiError(405, "Method Not Allowed")
            raise ApiError(404, "Not Found")
        gateway.api_key(request)
        if path in _NEEDS_VERSION:
            self._check_headers(request)
        return handler(request)

    def _check_headers(self, request: WireRequest) -> None:
        if not request.header("anthropic-version"):
            raise ApiError(400, "anthropic-version: header is required")
        ctype = (request.header("content-type") or JSON).split(";")[0].strip().lower()
        if ctype != JSON:
            raise ApiError(
                400, f"Unsupported content-type '{ctype}': the request body must be {JSON}"
            )
        if len(request.body) > self.profile.max_body_bytes:
            raise self._too_large_error()

    # -- endpoints ---------------------------------------------------------------------

    def _messages(self, request: WireRequest) -> WireResponse:
        body = parse_body(request.body)
        model = check_message_request(body, self.profile)
        reply = synthetic_reply(body)
        input_tokens = accounting.input_tokens(body)
        rendered = Rendered(
            id=self._message_id(body, self.profile.message_id_stem(model)),
            model=reply.model or self.profile.response_model(body["model"], model),
            reply=reply,
            input_tokens=input_tokens,
            full_usage=self.profile.full_usage,
        )
        headers = {"request-id": new_request_id()}
        if self.profile.credits_header:
            estimate = accounting.credits(model, input_tokens, body["max_tokens"])
            headers[self.profile.credits_header] = accounting.format_credits(estimate)
        if body.get("stream"):
            headers["content-type"] = sse.CONTENT_TYPE
            headers["cache-control"] = "no-cache"
            return WireResponse(200, headers, stream=sse.encode(rendered))
        headers["content-type"] = JSON
        return WireResponse(200, headers, _json.dumps(rendered.message()))

    def _count_tokens(self, request: WireRequest) -> WireResponse:
        body = parse_body(request.body)
        check_count_tokens(body, self.profile)
        return self._json({"input_tokens": accounting.input_tokens(body)})

    def _list_models(self, request: WireRequest) -> WireResponse:
        query = {k: v[-1] for k, v in parse_qs(request.query).items()}
        models = sorted(self.profile.models, key=lambda m: m.created_at, reverse=True)
        ids = [m.id for m in models]
        try:
            limit = int(query.get("limit", "20"))
        except ValueError:
            raise ApiError(400, "limit: Input should be a valid integer") from None
        if not 1 <= limit <= 1000:
            raise ApiError(400, "limit: Input should be between 1 and 1000")
        if "after_id" in query:
            start = self._position(ids, query["after_id"], "after_id") + 1
            page = models[start : start + limit]
            has_more = start + limit < len(models)
        elif "before_id" in query:
            end = self._position(ids, query["before_id"], "before_id")
            page = models[max(0, end - limit) : end]
            has_more = end - limit > 0
        else:
            page = models[:limit]
            has_more = limit < len(models)
        data = [m.info() for m in page]
        return self._json(
            {
                "data": data,
                "has_more": has_more,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            }
        )

    def _retrieve_model(self, request: WireRequest) -> WireResponse:
        name = request.path.rstrip("/").rsplit("/", 1)[1]
        return self._json(self.profile.model(name).info())

    # -- helpers -----------------------------------------------------------------------

    @staticmethod
    def _position(ids: list[str], value: str, name: str) -> int:
        try:
            return ids.index(value)
        except ValueError:
            raise ApiError(404, f"{name}: {value}") from None

    def _json(self, value: Any) -> WireResponse:
        headers = {"content-type": JSON, "request-id": new_request_id()}
        return WireResponse(200, headers, _json.dumps(value))

    def _message_id(self, body: dict[str, Any], stem: str) -> str:
        """Deterministic for a run: the request's seed and this engine's call count."""
        digest = hashlib.sha256(request_seed(body) + str(next(self._sequence)).encode()).digest()
        number = int.from_bytes(digest, "big")
        chars = []
        for _ in range(22):
            number, rest = divmod(number, len(_ID_ALPHABET))
            chars.append(_ID_ALPHABET[rest])
        return stem + "01" + "".join(chars)
