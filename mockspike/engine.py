"""The engine: one pure function from a wire request to a wire response.

It knows nothing of Starlette, sockets or httpx; the server and transports adapt to it.
The pipeline for `POST /v1/messages`: gateway (who) -> contract (is it valid) ->
responders (scripted rules, else the synthetic default) -> accounting (what it costs) ->
render (JSON or SSE, paced). Every request is written to the journal.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import anyio.to_thread

from . import _json, accounting, sse
from ._ids import from_bytes, random_id
from .cache import PromptCache
from .clock import Clock, SystemClock
from .config import GatewayConfig, RateLimits
from .contract.catalog import Model, Profile, load_profile
from .contract.errors import DEFAULT_MESSAGES, ERROR_TYPES, ApiError, error_body
from .contract.validate import check_count_tokens, check_message_request, parse_body
from .gateway import Admission, Gateway
from .journal import Entry, Journal
from .pacing import NO_DELAY, Pacer, Pacing
from .recorder import MISS_HEADER, Recorder
from .render import Rendered
from .reply import Failure, Fault, Reply
from .responders import synthetic_reply
from .responders.scripted import Rule, Script
from .responders.synthetic import request_seed
from .wire import Chunk, StreamBreak, WireRequest, WireResponse

JSON = "application/json"
#: Bodies above this size are handled on a worker thread by `handle_async`.
INLINE_BODY_BYTES = 256 * 1024
_NEEDS_VERSION = ("/v1/messages", "/v1/messages/count_tokens")
_ENDPOINTS = {"/v1/messages": "messages", "/v1/messages/count_tokens": "count_tokens"}
log = logging.getLogger("mockspike")


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = _json.loads(raw) if raw else None
    except _json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def new_request_id() -> str:
    return random_id("req_011C", 20)


class Engine:
    """The fake gateway's behaviour for one profile, its script and its journal."""

    def __init__(
        self,
        profile: str | Profile = "bytespike",
        *,
        strict: bool = False,
        pacing: Pacing | None = None,
        time_scale: float = 1.0,
        config: GatewayConfig | None = None,
        clock: Clock | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.profile = load_profile(profile) if isinstance(profile, str) else profile
        self.clock = clock or SystemClock()
        defaults = RateLimits(**self.profile.default_rate_limits)
        self.gateway = Gateway(config, defaults, self.clock)
        self.cache = PromptCache(self.clock)
        self.recorder = recorder
        self.strict = strict
        self.pacing = pacing or NO_DELAY
        if time_scale < 0:
            raise ValueError("time_scale must not be negative")
        self.time_scale = time_scale
        self.script = Script()
        self.journal = Journal()
        self._sequence = itertools.count()
        self._routes: dict[tuple[str, str], Callable[[WireRequest, Entry, str], WireResponse]] = {
            ("POST", "/v1/messages"): self._messages,
            ("POST", "/v1/messages/count_tokens"): self._count_tokens,
            ("GET", "/v1/models"): self._list_models,
        }

    # -- entry points ------------------------------------------------------------------

    def handle(self, request: WireRequest) -> WireResponse:
        """Answer one request. Never raises for anything a client can send."""
        entry = Entry(request.method, request.path, request.headers, None)
        entry.started_at = time.time()
        clock = time.perf_counter()
        try:
            response = self._route(request, entry)
        except ApiError as error:
            response = self.reject(error)
            entry.error = {"type": error.type, "message": error.message}
            entry.cassette_miss = MISS_HEADER in error.headers
        except Exception:  # a bug of ours must still answer in the envelope
            log.exception("mockspike: internal error")
            response = self.reject(ApiError(500, "Internal server error"))
            entry.error = {"type": "api_error", "message": "Internal server error"}
        entry.status = response.status
        entry.duration = time.perf_counter() - clock
        self.journal.append(entry)
        return response

    async def handle_async(self, request: WireRequest) -> WireResponse:
        """`handle` for async adapters: large bodies and recordings (which wait on the
        network) run on a worker thread, so one request never stalls the event loop."""
        if len(request.body) > INLINE_BODY_BYTES or self.blocking:
            return await anyio.to_thread.run_sync(self.handle, request)
        return self.handle(request)

    @property
    def blocking(self) -> bool:
        """True when answering may wait on the network (recording through an upstream)."""
        return self.recorder is not None and self.recorder.blocking

    def new_rule(
        self, *, times: int | None = None, name: str | None = None, **matchers: Any
    ) -> Rule:
        """Add a scripted rule (the one implementation behind Python, files and admin API)."""
        rule = Rule(matchers, times=times, name=name, statuses=self.profile.statuses)
        return self.script.add(rule)

    def reset(self) -> None:
        """Forget every rule and every journal entry (wallets and cache stay)."""
        self.script.clear()
        self.journal.clear()

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

    def failure(self, failure: Failure) -> ApiError:
        """A scripted failure as the profile sends it: default type and message from the
        status, `retry-after` on 429, and the gateway's auto-retry envelope on 5xx."""
        status = failure.status
        message = failure.message or DEFAULT_MESSAGES.get(status, "Error")
        headers: dict[str, str] = {}
        retry_after = failure.retry_after
        if retry_after is None and status == 429:
            retry_after = 1.0
        if retry_after is not None:
            headers["retry-after"] = str(max(math.ceil(retry_after), 0))
            headers["retry-after-ms"] = str(round(retry_after * 1000))
        wrap = self.profile.upstream_errors
        if status >= 500 and wrap:
            message = wrap["message_prefix"] + message
            headers.update(wrap["headers"])
        headers.update(failure.headers or {})
        return ApiError(status, message, failure.type or ERROR_TYPES.get(status), headers)

    # -- routing -----------------------------------------------------------------------

    def _route(self, request: WireRequest, entry: Entry) -> WireResponse:
        path = request.path.rstrip("/") or "/"
        handler = self._routes.get((request.method, path))
        if handler is None and path.startswith("/v1/models/") and path.count("/") == 3:
            if request.method != "GET":
                raise ApiError(405, "Method Not Allowed")
            handler = self._retrieve_model
        if handler is None:
            if any(p == path for _, p in self._routes):
                raise ApiError(405, "Method Not Allowed")
            raise ApiError(404, "Not Found")
        if self.recorder is not None:
            entry.body = _json_object(request.body)
            return self.recorder.handle(request)
        key = self.gateway.authenticate(request, _ENDPOINTS.get(path, "models"))
        if path in _NEEDS_VERSION:
            self._check_headers(request)
        return handler(request, entry, key)

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

    def _too_large_error(self) -> ApiError:
        limit = self.profile.max_body_bytes
        return ApiError(413, f"Request exceeds the maximum size of {limit} bytes.")

    # -- endpoints ---------------------------------------------------------------------

    def _messages(self, request: WireRequest, entry: Entry, key: str) -> WireResponse:
        body = entry.body = parse_body(request.body)
        model = check_message_request(body, self.profile, request.header("anthropic-beta"))
        self.gateway.check_model(key, body["model"], model)
        prompt_tokens = accounting.input_tokens(body)
        estimate = accounting.credits(model, prompt_tokens, body["max_tokens"])
        admission = self.gateway.admit(key, estimate, prompt_tokens, body["max_tokens"])
        try:
            return self._answer(body, model, key, entry, admission, estimate, prompt_tokens)
        except ApiError:
            self.gateway.settle(admission, 0, 0.0)  # refused answers are not billed
            raise

    def _answer(
        self,
        body: dict[str, Any],
        model: Model,
        key: str,
        entry: Entry,
        admission: Admission,
        estimate: float,
        prompt_tokens: int,
    ) -> WireResponse:
        rule, response = self.script.decide(body)
        entry.rule = rule.describe() if rule else None
        entry.response = response
        if response is None and self.strict:
            entry.unmatched = True
            raise ApiError(
                400,
                "mockspike strict mode: no rule matched this request; "
                + self.script.explain_miss(body),
                headers={"x-mockspike-unmatched": "true"},
            )
        if isinstance(response, Failure):
            raise self.failure(response)
        fault = response if isinstance(response, Fault) else None
        if fault is not None and fault.kind == "drop":
            self.gateway.settle(admission, 0, 0.0)
            return WireResponse(0, {}, drop=True)
        seed = request_seed(body)
        reply = response if isinstance(response, Reply) else synthetic_reply(body, seed)
        cache = self.cache.use(key, model, body)
        uncached = prompt_tokens - cache.read - cache.written
        rendered = Rendered(
            id=self._message_id(seed, self.profile.message_id_stem(model)),
            model=reply.model or self.profile.response_model(body["model"], model),
            reply=reply,
            input_tokens=uncached,
            full_usage=self.profile.full_usage,
            cache=cache,
        )
        cost = accounting.credits(
            model, uncached, reply.output_tokens, cache.read, cache.write_5m, cache.write_1h
        )
        entry.input_tokens, entry.output_tokens, entry.credits = uncached, reply.output_tokens, cost
        request_id = new_request_id()
        headers = self.gateway.settle(admission, reply.output_tokens, cost)
        headers["request-id"] = request_id
        if self.profile.credits_header:
            headers[self.profile.credits_header] = accounting.format_credits(estimate)
        pacer = (reply.timing or self.pacing).pacer(seed, self.time_scale)
        stall = fault.seconds if fault is not None and fault.kind == "stall" else 0.0
        if body.get("stream"):
            headers["content-type"] = sse.CONTENT_TYPE
            headers["cache-control"] = "no-cache"
            chunks = self._stream(rendered, pacer, fault, request_id)
            return WireResponse(200, headers, stream=chunks, delay=stall)
        headers["content-type"] = JSON
        payload = _json.dumps(rendered.message())
        if fault is not None and fault.kind == "break":
            return WireResponse(0, {}, drop=True)
        if fault is not None and fault.kind == "malformed":
            payload = payload[: len(payload) // 2]
        return WireResponse(200, headers, payload, delay=stall + pacer.total(reply.output_tokens))

    def _stream(
        self, rendered: Rendered, pacer: Pacer, fault: Fault | None, request_id: str
    ) -> Iterator[Chunk]:
        """The paced SSE chunks, cut or corrupted as a fault says."""
        for count, (name, data) in enumerate(sse.events(rendered)):
            if fault is not None and fault.kind == "break" and count == fault.after:
                if fault.error is None:
                    raise StreamBreak
                error = self.failure(fault.error)
                yield 0.0, sse.frame("error", error_body(error.type, error.message, request_id))
                return
            frame = sse.frame(name, data)
            if fault is not None and fault.kind == "malformed" and count == 1:
                yield 0.0, frame[: len(frame) // 2] + b"\n\n"
                return
            yield pacer.next(sse.output_tokens(data)), frame

    def _count_tokens(self, request: WireRequest, entry: Entry, key: str) -> WireResponse:
        body = entry.body = parse_body(request.body)
        check_count_tokens(body, self.profile, request.header("anthropic-beta"))
        return self._json({"input_tokens": accounting.input_tokens(body)})

    def _list_models(self, request: WireRequest, entry: Entry, key: str) -> WireResponse:
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

    def _retrieve_model(self, request: WireRequest, entry: Entry, key: str) -> WireResponse:
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

    def _message_id(self, seed: bytes, stem: str) -> str:
        """Deterministic for a run: the request's seed and this engine's call count."""
        digest = hashlib.sha256(seed + str(next(self._sequence)).encode()).digest()
        return stem + "01" + from_bytes(digest, 22)
