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
from mockspike.engine.batches import BatchStorage
from mockspike.engine.files import FileStorage
from mockspike.engine.front import FrontStage
from mockspike.engine.threads import ThreadStorage
from mockspike.gateway.cache import PromptCache
from mockspike.gateway.limits import Gateway
from mockspike.model.clock import Clock
from mockspike.model.outcomes import Reply
from mockspike.model.pacing import Pacing
from mockspike.model.wire import WireRequest, WireResponse
from mockspike.script.rules import Script
from mockspike.state.journal import Entry, Journal
from mockspike.state.shared import State

Responder = Callable[[dict[str, Any], "bytes | None"], Reply]
"""The responder of last resort (`synthetic.default.MODES`)."""


@dataclass(eq=False)
class Services:
    """The fake's handles a handler may use, one set per engine. The engine's settings that
    change while it serves (`fake.configure`, a cassette put in or taken out) change here,
    so every handler sees them at once."""

    profile: Profile
    clock: Clock
    state: State
    """Buckets, wallets, cache, rule uses, journal: this process's, or shared."""
    gateway: Gateway
    cache: PromptCache
    script: Script
    journal: Journal
    batches: BatchStorage
    files: FileStorage
    threads: ThreadStorage
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
