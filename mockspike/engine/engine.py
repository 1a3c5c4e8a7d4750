"""The engine: one function from a wire request to a wire response.

It knows nothing of Starlette, sockets or httpx; the adapters adapt to it through an
exchange (`exchange.py`): a request is routed once through the endpoint table
(`endpoints.py`) when it is opened, answered by the front stage when there is one (a
cassette) or else by the gateway (who may call) and the endpoint's handler, which is given
a `Context` (`context.py`), and written to the journal. The engine stamps every handler's
answer with its request id and content type. `messages.py` holds the pipeline of
`POST /v1/messages`.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

import anyio.to_thread

from mockspike import _json
from mockspike._ids import from_bytes, request_id
from mockspike._threads import LoopThreads
from mockspike.contract.catalog import Profile, load_profile
from mockspike.engine.context import Context, Responder, Services
from mockspike.engine.endpoints import ROUTER, Endpoint
from mockspike.engine.exchange import Body, Exchange
from mockspike.engine.front import CassetteMiss, FrontStage
from mockspike.gateway.cache import PromptCache
from mockspike.gateway.keys import GatewayConfig, RateLimits
from mockspike.gateway.limits import Gateway, initial_wallets
from mockspike.model.capture import capture
from mockspike.model.clock import Clock, SystemClock
from mockspike.model.errors import ApiError, error_body
from mockspike.model.pacing import NO_DELAY, Pacing
from mockspike.model.wire import WireRequest, WireResponse
from mockspike.render import openai_chat
from mockspike.script import checks
from mockspike.script import files as script_files
from mockspike.script.rules import Rule, Script
from mockspike.script.source import Loaded
from mockspike.script.stored import StoredRules
from mockspike.state.batches import BatchStore
from mockspike.state.files import FileStore
from mockspike.state.journal import Entry, Journal
from mockspike.state.stores import Stores, open_stores
from mockspike.state.threads import ThreadStore
from mockspike.synthetic.default import MODES

JSON = "application/json"
#: Bodies above this size are answered on a worker thread by `answer_async`.
INLINE_BODY_BYTES = 256 * 1024
STATE_THREADS = 4
"""Threads answering requests of a shared state (Redis), per event loop. Few: a request
spends most of its time in Python, which one thread at a time runs, so more threads only
contend for the interpreter (`benchmarks/scale.py`: 40 threads served fewer requests a
second than 4)."""
_state_threads = LoopThreads("mockspike_state_threads", STATE_THREADS)
FORWARD_THREADS = 256
"""Threads waiting on a recorder's upstream at once, per event loop: apart from anyio's
default pool, so requests a stalling upstream holds never keep replays (or anything else)
from a thread."""
_forward_threads = LoopThreads("mockspike_forward_threads", FORWARD_THREADS)
log = logging.getLogger("mockspike")


new_request_id = request_id
"""A `request-id` (for the command line's own envelopes too)."""

T = TypeVar("T")


class _Served(Generic[T]):
    """An engine attribute kept in its `Services`, where the handlers read it: set on the
    engine (`fake.configure`, a cassette), seen by the next request at once."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, engine: None, owner: type) -> _Served[T]: ...
    @overload
    def __get__(self, engine: Engine, owner: type) -> T: ...
    def __get__(self, engine: Engine | None, owner: type) -> T | _Served[T]:
        if engine is None:
            return self
        value: T = getattr(engine.services, self.name)
        return value

    def __set__(self, engine: Engine, value: T) -> None:
        setattr(engine.services, self.name, value)


class Engine:
    """The fake gateway's behaviour for one profile: its state, its script and its journal.

    Adapters open an `Exchange` per request (`open`: routed once), feed it, and take the
    answer (`answer` / `answer_async`); `handle` does all three for a whole request."""

    profile: _Served[Profile] = _Served()
    clock: _Served[Clock] = _Served()
    stores: _Served[Stores] = _Served()
    """Buckets, wallets, cache, rules, journal, batches, files, threads: this process's,
    or shared (`state/stores.py`)."""
    gateway: _Served[Gateway] = _Served()
    cache: _Served[PromptCache] = _Served()
    rules: _Served[StoredRules] = _Served()
    """The script's rules over the rules store (claims, and rules shared as data)."""
    script: _Served[Script] = _Served()
    journal: _Served[Journal] = _Served()
    batches: _Served[BatchStore] = _Served()
    """Message Batches, processed on `clock` (`engine/batches.py`)."""
    files: _Served[FileStore] = _Served()
    """Files API storage: in memory, in `files_dir` or shared."""
    threads: _Served[ThreadStore] = _Served()
    """Server-held message threads (`engine/threads.py`)."""
    front: _Served[FrontStage | None] = _Served()
    """Answers before the gateway and contract when set (a cassette)."""
    strict: _Served[bool] = _Served()
    synthetic: _Served[Responder] = _Served()
    """The responder of last resort (`synthetic.default.MODES`)."""
    pacing: _Served[Pacing] = _Served()
    time_scale: _Served[float] = _Served()

    def __init__(
        self,
        profile: str | Profile = "bytespike",
        *,
        strict: bool = False,
        synthetic: str = "default",
        pacing: Pacing | None = None,
        time_scale: float = 1.0,
        config: GatewayConfig | None = None,
        clock: Clock | None = None,
        front: FrontStage | None = None,
        files_dir: str | Path | None = None,
        state: str | Stores | None = None,
    ) -> None:
        loaded = load_profile(profile) if isinstance(profile, str) else profile
        clock = clock or SystemClock()
        defaults = RateLimits(**loaded.default_rate_limits)
        if state is None or isinstance(state, str):
            directory = Path(files_dir) if files_dir else None
            state = open_stores(state, initial_wallets(config), directory)
        if time_scale < 0:
            raise ValueError("time_scale must not be negative")
        self._sequence = itertools.count()
        rules = StoredRules(state.rules)
        self.services = Services(
            profile=loaded,
            clock=clock,
            stores=state,
            gateway=Gateway(config, defaults, clock, state.buckets, state.wallets),
            cache=PromptCache(clock, state.cache),
            rules=rules,
            script=Script(rules.claim),
            journal=state.journal,
            batches=state.batches,
            files=state.files,
            threads=state.threads,
            message_id=self.message_id,
            synthetic=MODES[synthetic],
            pacing=pacing or NO_DELAY,
            time_scale=time_scale,
            strict=strict,
            front=front,
        )
        """What the handlers see (`engine/context.py`)."""
        self._source_rules: list[Rule] = []
        """The rules of the script source in force (`load_source`), in memory."""

    # -- entry points ------------------------------------------------------------------

    def open(
        self, method: str, path: str, *, query: str = "", client_ip: str = "127.0.0.1"
    ) -> Exchange:
        """A request under way, routed (once): its body limit is its endpoint's own or the
        profile's; a path routing refuses (404, 405) is answered by `answer` all the same."""
        profile = self.services.profile
        try:
            endpoint, params = ROUTER.route(method, path)
        except ApiError as error:
            return Exchange(
                method,
                path,
                profile.max_body_bytes,
                None,
                refused=error,
                query=query,
                client_ip=client_ip,
            )
        limit = endpoint.max_body or profile.max_body_bytes
        refused = ApiError(404, "Not Found") if endpoint.name in profile.not_served else None
        return Exchange(
            method, path, limit, endpoint, params, refused, query=query, client_ip=client_ip
        )

    def answer(self, exchange: Exchange) -> WireResponse:
        """The answer to an exchange whose headers and body are in. Never raises for
        anything a client can send."""
        return self._handle(self._request(exchange), exchange)

    async def answer_async(self, exchange: Exchange) -> WireResponse:
        """`answer` for async adapters: large bodies, recordings and shared state (which
        wait on the network) run on a worker thread, so one request never stalls the event
        loop."""
        request = self._request(exchange)
        services = self.services
        front = services.front
        if front is not None and front.blocking and front.forwards(request):
            return await anyio.to_thread.run_sync(
                self._handle, request, exchange, limiter=_forward_threads.limiter()
            )
        if services.stores.blocking:
            return await anyio.to_thread.run_sync(
                self._handle, request, exchange, limiter=_state_threads.limiter()
            )
        if len(request.body) > INLINE_BODY_BYTES or (front is not None and front.blocking):
            return await anyio.to_thread.run_sync(self._handle, request, exchange)
        return self._handle(request, exchange)

    def too_large(self, body: Body) -> WireResponse:
        """The 413 an adapter sends when `feed` stops at the body limit: an exchange's
        endpoint's own refusal, else the profile's."""
        endpoint = body.endpoint if isinstance(body, Exchange) else None
        if endpoint is None:
            return self.reject(self._too_large_error())
        if endpoint.too_large is not None:
            return self.reject(endpoint.too_large(), endpoint.dialect)
        return self.reject(self._too_large_error(), endpoint.dialect)

    def handle(self, request: WireRequest) -> WireResponse:
        """Answer a request already whole (tests, scripts): routed like an exchange."""
        exchange = self.open(request.method, request.path)
        return self._handle(request, exchange)

    async def handle_async(self, request: WireRequest) -> WireResponse:
        """`handle` for async callers, through `answer_async` (recordings, shared stores
        and large bodies are answered on a worker thread)."""
        exchange = self.open(
            request.method, request.path, query=request.query, client_ip=request.client_ip
        )
        exchange.headers, exchange.body, exchange.gone = request.headers, request.body, request.gone
        return await self.answer_async(exchange)

    @property
    def blocking(self) -> bool:
        """True when answering may wait on the network (recording through an upstream)."""
        front = self.services.front
        return front is not None and front.blocking

    def new_rule(self, *, queued: bool = False, **given: Any) -> Rule:
        """Add a scripted rule (the one implementation behind Python, files and admin API)
        from `on()`'s keywords; `queued`: a one-shot, tried before the standing rules."""
        if self.stores.shared:
            raise TypeError(
                "with shared state, rules are shared as data: add them with "
                "load_script({...}), a --script file or the admin API (Python rules and "
                "where= predicates cannot reach the other processes)"
            )
        return self.script.add(self.check_rule(queued=queued, **given))

    def share_rules(self, spec: dict[str, Any]) -> list[Rule]:
        """Check rules in their script-file form, then add them for every process."""
        added = script_files.build_rules(spec, self.check_rule)
        self.stores.rules.store_rules(spec.get("rules", [spec]))
        self.rules.sync(self.script)
        return self.script.rules[-len(added) :] if added else []

    def check_rule(self, *, queued: bool = False, **given: Any) -> Rule:
        """A rule from `on()`'s keywords for this profile, checked but not added (scripts
        loaded as a whole, or shared as data; `new_rule` adds it)."""
        models = self.profile.model_names
        return Rule.of(given, queued=queued, statuses=self.profile.statuses, models=models)

    def load_source(self, loaded: Loaded) -> bool:
        """Put a script source's rules in force in place of those it had before (all of
        them at once). With shared state, in every process, once: False when the state
        already holds these very rules."""
        if self.stores.shared:
            stored = self.stores.rules.store_script(loaded.spec["rules"], loaded.digest)
            self.rules.sync(self.script)
            return stored
        rules = script_files.build_rules(loaded.spec, self.check_rule)
        self.script.swap(self._source_rules, rules)
        self._source_rules = rules
        return True

    def reset(self) -> None:
        """Forget every rule and every journal entry (wallets and cache stay)."""
        self.script.clear()
        self.stores.clear()

    def reject(
        self,
        error: ApiError,
        dialect: str = openai_chat.ANTHROPIC,
        request_id: str | None = None,
    ) -> WireResponse:
        """The error envelope, for the engine and for adapters that refuse early (413); in
        OpenAI's shape for a request in that dialect."""
        request_id = request_id or new_request_id()
        headers = {"content-type": JSON, "request-id": request_id, **error.headers}
        if dialect == openai_chat.DIALECT:
            body = openai_chat.error_body(error.type, error.message, request_id)
            headers.update(openai_chat.headers(headers))
        else:
            body = error_body(error.type, error.message, request_id, error.details)
        return WireResponse(error.status, headers, _json.dumps(body))

    def message_id(self, raw: bytes, stem: str) -> str:
        """Deterministic for a run: a digest of the request's bytes and this engine's call
        count. (The bytes, not `request_seed`: a digest of them costs a fraction, and a
        scripted reply then needs no seed at all.)"""
        digest = hashlib.sha256(raw + str(next(self._sequence)).encode()).digest()
        return stem + "01" + from_bytes(digest, 22)

    # -- answering ---------------------------------------------------------------------

    @staticmethod
    def _request(exchange: Exchange) -> WireRequest:
        return WireRequest(
            exchange.method,
            exchange.path,
            exchange.headers,
            exchange.done(),
            exchange.query,
            exchange.client_ip,
            exchange.gone,
        )

    def _handle(self, request: WireRequest, exchange: Exchange) -> WireResponse:
        services = self.services
        entry = Entry(request.method, request.path, request.headers, None)
        entry.started_at = time.time()
        entry.at = services.clock.now()
        clock = time.perf_counter()
        request_id = new_request_id()
        try:
            response = self._route(request, entry, exchange, request_id)
        except ApiError as error:
            response = self.reject(error, entry.dialect, request_id)
            entry.error = {"type": error.type, "message": error.message}
            entry.cassette_miss = isinstance(error, CassetteMiss)
        except Exception as exc:  # a bug of ours must still answer in the envelope
            broken = checks.fake_error(exc)
            if not isinstance(exc, checks.AnswerError):
                log.exception("mockspike: internal error")
            response = self.reject(broken, entry.dialect, request_id)
            entry.error = {"type": broken.type, "message": broken.message}
            entry.fake_error = broken.message
        entry.status = response.status
        entry.duration = time.perf_counter() - clock
        entry.reply = capture(response, services.clock.now, entry.at)
        services.journal.append(entry, request.body)
        return response

    def _route(
        self, request: WireRequest, entry: Entry, exchange: Exchange, request_id: str
    ) -> WireResponse:
        if exchange.refused is not None:
            raise exchange.refused
        endpoint = exchange.endpoint
        assert endpoint is not None  # routed, or refused
        services = self.services
        entry.endpoint = endpoint.name
        entry.dialect = endpoint.dialect
        front = services.front
        if front is not None and not endpoint.local:
            entry.body = _json.loads_object(request.body)
            response = front.handle(request, entry)
            entry.rule = response.answered_by or front.describe()
            return response
        key = services.gateway.authenticate(request, endpoint.name)
        if endpoint.needs_version:
            self._check_headers(request, endpoint, exchange.limit)
        context = Context(request, entry, key, services, request_id, exchange.params)
        response = endpoint.handler(context)
        if not response.drop:  # the request id and content type, stamped once
            headers = response.headers
            if "content-type" not in headers:
                headers["content-type"] = JSON
            headers["request-id"] = request_id
        return response

    def _check_headers(self, request: WireRequest, endpoint: Endpoint, limit: int) -> None:
        if endpoint.version_header and not request.header("anthropic-version"):
            raise ApiError(400, "anthropic-version: header is required")
        ctype = (request.header("content-type") or JSON).split(";")[0].strip().lower()
        if ctype != JSON:
            raise ApiError(
                400, f"Unsupported content-type '{ctype}': the request body must be {JSON}"
            )
        if len(request.body) > limit:
            raise endpoint.too_large() if endpoint.too_large else self._too_large_error()

    def _too_large_error(self) -> ApiError:
        limit = self.services.profile.max_body_bytes
        return ApiError(413, f"Request exceeds the maximum size of {limit} bytes.")
