"""Server-held message threads: the `thread` field of `POST /v1/messages` (beta
`message-threads-2026-08-12`).

A `create` request is answered as usual, and its conversation (system, tools, messages and
the reply) is kept under the reply's `id`. A `continue` request sends only the messages
since that reply and leaves `system` and `tools` out: the thread supplies them and the
history, and the request is then checked and answered as the whole conversation it stands
for. Each reply can be continued once. A thread expires `THREAD_TTL` seconds after the reply
it continues from was stored (on the fake's clock).

The refusals are the API's, each with its `error.details.error_code` (the SDK raises its
own class for each): `thread_not_found` (404), `thread_already_continued`,
`thread_continue_in_flight`, `thread_fingerprint_mismatch` and `thread_unsupported_request`
(400). What a thread keeps is plain data (`Record`), in the threads store
(`state/threads.py`: in this process, or in Redis shared by every process), which also
makes the one decision: which continuation claims a reply.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockspike.contract.rules import check_thread_continuation
from mockspike.contract.validate import check_shape
from mockspike.state.threads import RETRY, Record, ThreadStore, thread_error

if TYPE_CHECKING:
    from mockspike.contract.catalog import Profile
    from mockspike.model.clock import Clock
    from mockspike.model.wire import Chunk
    from mockspike.render.message import Rendered

THREAD_TTL = 300.0
"""A thread expires 5 minutes after its last request (docs: Message threads)."""
FROM_THREAD = ("system", "tools")
"""Fields a continuation takes from the thread (and may not send)."""
UNSUPPORTED = ("fallbacks", "context_management")
"""Request fields threads refuse, named as `ThreadUnsupportedFeatureName` names them (a
choice among the SDK's names: the sources do not say when each applies)."""


@dataclass
class Turn:
    """One threaded request: the body to answer (the whole conversation) and what to keep
    once it is answered."""

    body: dict[str, Any]
    previous: str | None
    """The reply this request continues (None: it creates the thread)."""
    store: ThreadStore
    done: bool = False

    @property
    def continues(self) -> bool:
        return self.previous is not None

    def keep(self, rendered: Rendered, model: str, now: float) -> None:
        """Store the conversation with its reply under the reply's id (`model`: the
        resolved model id)."""
        if self.done:
            return
        self.done = True
        body = self.body
        reply = {"role": "assistant", "content": rendered.reply.content}
        record = Record(
            model=model,
            messages=[*body["messages"], reply],
            system=body.get("system"),
            tools=body.get("tools"),
            expires=now + THREAD_TTL,
        )
        self.store.keep(rendered.id, record, self.previous)

    def abandon(self) -> None:
        """The request was not answered: the reply it continues may be continued again."""
        if self.done:
            return
        self.done = True
        if self.previous is not None:
            self.store.release(self.previous)

    def frames(
        self, frames: Iterator[Chunk], rendered: Rendered, model: str, now: float
    ) -> Iterator[Chunk]:
        """A stream's frames; the turn is kept once the last one is sent, and given up if
        the stream ends before it (the server keeps a whole reply or none)."""
        try:
            yield from frames
            self.keep(rendered, model, now)
        finally:
            self.abandon()


def begin(
    store: ThreadStore,
    profile: Profile,
    clock: Clock,
    body: dict[str, Any],
    beta_header: str | None,
) -> Turn | None:
    """The threaded request `body` stands for, or None when it has no `thread`. A
    continuation's body becomes the whole conversation, without `thread`; its reply is
    claimed (given back by `Turn.abandon` if the request is not answered)."""
    thread = body.get("thread")
    if thread is None:
        return None
    check_shape(body, beta_header)
    check_thread_continuation(body)
    unsupported = [name for name in UNSUPPORTED if body.get(name) is not None]
    if unsupported:
        raise thread_error(
            400,
            "thread_unsupported_request",
            f"thread: threads do not support `{'`, `'.join(unsupported)}`. Send the full "
            "conversation without `thread`, or leave that field out.",
            unsupported=unsupported,
        )
    if thread["type"] == "create":
        return Turn(body, None, store)
    previous = thread["previous_message_id"]
    model = profile.model(body["model"])
    record = store.claim(previous, clock.now())
    turn = Turn(_whole(body, record), previous, store)
    if model.id != record.model:
        # the one field a thread fingerprints here (a choice: the sources name none)
        turn.abandon()
        raise thread_error(
            400,
            "thread_fingerprint_mismatch",
            f"thread: `model` differs from the value stored with the thread "
            f"(`{record.model}`). Send the stored value, or {RETRY} to change it.",
        )
    return turn


def _whole(body: dict[str, Any], record: Record) -> dict[str, Any]:
    """The conversation a continuation stands for: the thread's system, tools and history,
    then the new messages; the rest of the request as sent."""
    whole = {k: v for k, v in body.items() if k not in ("thread", "messages", *FROM_THREAD)}
    if record.system is not None:
        whole["system"] = record.system
    if record.tools is not None:
        whole["tools"] = record.tools
    whole["messages"] = [*record.messages, *body["messages"]]
    return whole
