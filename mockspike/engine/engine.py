"""The engine: one function from a wire request to a wire response.

It knows nothing of Starlette, sockets or httpx; the adapters adapt to it. A request is
routed through the endpoint table (`endpoints.py`), answered by the front stage when there
is one (a cassette) or else by the gateway (who may call) and the endpoint's handler, and
written to the journal. `messages.py` holds the pipeline of `POST /v1/messages`.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
from pathlib import Path
from typing import Any

import anyio.to_thread

from mockspike import _json
from mockspike._ids import from_bytes, random_id
from mockspike._threads import LoopThreads
from mockspike.contract.catalog import Profile, load_profile
from mockspike.engine.endpoints import ROUTER, Call, Endpoint
from mockspike.engine.front import CassetteMiss, FrontStage
from mockspike.engine.messages import scripted_error
from mockspike.gateway.cache import PromptCache
from mockspike.gateway.keys import GatewayConfig, RateLimits
from mockspike.gateway.limits import Gateway, initial_wallets
from mockspike.model.capture import capture
from mockspike.model.clock import Clock, SystemClock
from mockspike.model.errors import ApiError, error_body
from mockspike.model.outcomes import Failure
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
#: Bodies above this size are handled on a worker thread by `handle_async`.
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


def new_request_id() -> str:
    return random_id("req_011C", 20)


class Engine:
    """The fake gateway's behaviour for one profile: its state, its script and its journal."""

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
        self.profile = load_profile(profile) if isinstance(profile, str) else profile
        self.clock = clock or SystemClock()
        defaults = RateLimits(**self.profile.default_rate_limits)
        if state is None or isinstance(state, str):
            directory = Path(files_dir) if files_dir else None
            state = open_stores(state, initial_wallets(config), directory)
        self.stores: Stores = state
        """Buckets, wallets, cache, rules, journal, batches, files, threads: this
        process's, or shared (`state/stores.py`)."""
        self.gateway = Gateway(config, defaults, self.clock, state.buckets, state.wallets)
        self.cache = PromptCache(self.clock, state.cache)
        self.front = front
        """Answers before the gateway and contract when set (a cassette)."""
        self.strict = strict
        self.synthetic = MODES[synthetic]
        """The responder of last resort (`responders.synthetic.MODES`)."""
        self.pacing = pacing or NO_DELAY
        if time_scale < 0:
            raise ValueError("time_scale must not be negative")
        self.time_scale = time_scale
        self.rules = StoredRules(state.rules)
        """The script's rules over the rules store (claims, and rules shared as data)."""
        self.script = Script(self.rules.claim)
        self._source_rules: list[Rule] = []
        """The rules of the script source in force (`load_source`), in memory."""
        self.journal: Journal = state.journal
        self.batches: BatchStore = state.batches
        """Message Batches, processed on `clock` (`engine/batches.py`)."""
        self.files: FileStore = state.files
        """Files API storage: in memory, in `files_dir` or shared (`engine/files.py`)."""
        self.threads: ThreadStore = state.threads
        """Server-held message threads (`engine/threads.py`)."""
        self._sequence = itertools.count()

    # -- entry points ------------------------------------------------------------------

    def handle(self, request: WireRequest) -> WireResponse:
        """Answer one request. Never raises for anything a client can send."""
        entry = Entry(request.method, request.path, request.headers, None)
        entry.started_at = time.time()
        entry.at = self.clock.now()
        clock = time.perf_counter()
        try:
            response = self._route(request, entry)
        except ApiError as error:
            response = self.reject(error, entry.dialect)
            entry.error = {"type": error.type, "message": error.message}
            entry.cassette_miss = isinstance(error, CassetteMiss)
        except Exception as exc:  # a bug of ours must still answer in the envelope
            broken = checks.fake_error(exc)
            if not isinstance(exc, checks.AnswerError):
                log.exception("mockspike: internal error")
            response = self.reject(broken, entry.dialect)
            entry.error = {"type": broken.type, "message": broken.message}
            entry.fake_error = broken.message
        entry.status = response.status
        entry.duration = time.perf_counter() - clock
        entry.reply = capture(response, self.clock.now, entry.at)
        self.journal.append(entry, request.body)
        return response

    async def handle_async(self, request: WireRequest) -> WireResponse:
        """`handle` for async adapters: large bodies, recordings and shared state (which
        wait on the network) run on a worker thread, so one request never stalls the event
        loop."""
        front = self.front
        if front is not None and front.blocking and front.forwards(request):
            return await anyio.to_thread.run_sync(
                self.handle, request, limiter=_forward_threads.limiter()
            )
        if self.stores.blocking:
            return await anyio.to_thread.run_sync(
                self.handle, request, limiter=_state_threads.limiter()
            )
        if len(request.body) > INLINE_BODY_BYTES or self.blocking:
            return await anyio.to_thread.run_sync(self.handle, request)
        return self.handle(request)

    @property
    def blocking(self) -> bool:
        """True when answering may wait on the network (recording through an upstream)."""
        return self.front is not None and self.front.blocking

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

    def reject(self, error: ApiError, dialect: str = openai_chat.ANTHROPIC) -> WireResponse:
        """The error envelope, for the engine and for adapters that refuse early (413); in
        OpenAI's shape for a request in that dialect."""
        request_id = new_request_id()
        headers = {"content-type": JSON, "request-id": request_id, **error.headers}
        if dialect == openai_chat.DIALECT:
            body = openai_chat.error_body(error.type, error.message, request_id)
            headers.update(openai_chat.headers(headers))
        else:
            body = error_body(error.type, error.message, request_id, error.details)
        return WireResponse(error.status, headers, _json.dumps(body))

    def too_large(self) -> WireResponse:
        """The 413 for adapters that stop reading a body past the profile's limit."""
        return self.reject(self._too_large_error())

    def failure(self, failure: Failure) -> ApiError:
        """A scripted failure as this profile sends it (see `messages.scripted_error`)."""
        return scripted_error(self.profile, failure)

    def request_id(self) -> str:
        return new_request_id()

    def message_id(self, raw: bytes, stem: str) -> str:
        """Deterministic for a run: a digest of the request's bytes and this engine's call
        count. (The bytes, not `request_seed`: a digest of them costs a fraction, and a
        scripted reply then needs no seed at all.)"""
        digest = hashlib.sha256(raw + str(next(self._sequence)).encode()).digest()
        return stem + "01" + from_bytes(digest, 22)

    # -- routing -----------------------------------------------------------------------

    def _route(self, request: WireRequest, entry: Entry) -> WireResponse:
        endpoint, params = ROUTER.route(request.method, request.path)
        if endpoint.name in self.profile.not_served:
            raise ApiError(404, "Not Found")
        entry.endpoint = endpoint.name
        entry.dialect = endpoint.dialect
        if self.front is not None and not endpoint.local:
            entry.body = _json.loads_object(request.body)
            response = self.front.handle(request, entry)
            entry.rule = response.answered_by or self.front.describe()
            return response
        key = self.gateway.authenticate(request, endpoint.name)
        if endpoint.needs_version:
            self._check_headers(request, endpoint)
        return endpoint.handler(self, Call(request, entry, key, params))

    def body_limit(self, method: str, path: str) -> int:
        """The most body bytes a request may carry (adapters stop reading past it): the
        endpoint's own limit (an upload, a batch), else the profile's."""
        try:
            endpoint, _ = ROUTER.route(method, path)
        except ApiError:
            return self.profile.max_body_bytes
        return endpoint.max_body or self.profile.max_body_bytes

    def too_large_for(self, method: str, path: str) -> WireResponse:
        """The 413 an adapter sends when it stops reading a body at `body_limit`."""
        try:
            endpoint, _ = ROUTER.route(method, path)
        except ApiError:
            return self.too_large()
        if endpoint.too_large is None:
            return self.reject(self._too_large_error(), endpoint.dialect)
        return self.reject(endpoint.too_large(), endpoint.dialect)

    def _check_headers(self, request: WireRequest, endpoint: Endpoint) -> None:
        if endpoint.version_header and not request.header("anthropic-version"):
            raise ApiError(400, "anthropic-version: header is required")
        ctype = (request.header("content-type") or JSON).split(";")[0].strip().lower()
        if ctype != JSON:
            raise ApiError(
                400, f"Unsupported content-type '{ctype}': the request body must be {JSON}"
            )
        if len(request.body) > (endpoint.max_body or self.profile.max_body_bytes):
            raise endpoint.too_large() if endpoint.too_large else self._too_large_error()

    def _too_large_error(self) -> ApiError:
        limit = self.profile.max_body_bytes
        return ApiError(413, f"Request exceeds the maximum size of {limit} bytes.")
