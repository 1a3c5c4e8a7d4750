"""What a handler is given: the request under way (`Context`) and the fake's handles it may
use (`Services`). Handlers are functions `(Context) -> WireResponse` that import neither the
engine nor the endpoint table; the engine makes one `Services` and hands it to every call,
and stamps each answer's request id and content type itself (`Context.request_id`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from mockspike.contract.catalog import Profile
from mockspike.engine.front import FrontStage
from mockspike.gateway.cache import PromptCache
from mockspike.gateway.limits import Gateway
from mockspike.model.clock import Clock
from mockspike.model.outcomes import Reply
from mockspike.model.pacing import Pacing
from mockspike.model.wire import WireRequest, WireResponse
from mockspike.script.rules import Script
from mockspike.script.stored import StoredRules
from mockspike.state.batches import BatchStore
from mockspike.state.files import FileStore
from mockspike.state.journal import Entry, Journal
from mockspike.state.stores import Stores
from mockspike.state.threads import ThreadStore

Responder = Callable[[dict[str, Any], "bytes | None"], Reply]
"""The responder of last resort (`synthetic.default.MODES`)."""


@dataclass(eq=False)
class Services:
    """The fake's handles a handler may use, one set per engine. The engine's settings that
    change while it serves (`fake.configure`, a cassette put in or taken out) change here,
    so every handler sees them at once."""

    profile: Profile
    clock: Clock
    stores: Stores
    """Buckets, wallets, cache, rules, journal, batches, files, threads: this process's,
    or shared (`state/stores.py`)."""
    gateway: Gateway
    cache: PromptCache
    rules: StoredRules
    """The script's rules over the rules store (claims, and rules shared as data)."""
    script: Script
    journal: Journal
    batches: BatchStore
    """Message Batches, processed on `clock` (`engine/batches.py`)."""
    files: FileStore
    """Files API storage: in memory, in `files_dir` or shared."""
    threads: ThreadStore
    """Server-held message threads (`engine/threads.py`)."""
    message_id: Callable[[bytes, str], str]
    """A message id for a request's bytes (`Engine.message_id`)."""
    synthetic: Responder
    pacing: Pacing
    time_scale: float = 1.0
    strict: bool = False
    front: FrontStage | None = None
    """Answers before the gateway and contract when set (a cassette)."""


EMPTY: Mapping[str, str] = MappingProxyType({})
"""The path parameters of a path without any (shared, read-only)."""


@dataclass(slots=True, eq=False)
class Context:
    """One routed request, as its handler sees it."""

    request: WireRequest
    entry: Entry
    key: str
    """The caller's API key (authenticated)."""
    services: Services
    request_id: str
    """This answer's `request-id` (the engine sets the header; a handler names it only in
    a body, as a mid-stream error does)."""
    params: Mapping[str, str]
    """The path parameters (`{file_id}`)."""


Handler = Callable[[Context], WireResponse]
