"""A pytest plugin: every reply the fake gives in a test is validated against the installed
SDK's response types, strictly (no field the SDK does not know, none it requires missing).

    pytest -p tools.reply_check          # `nox -s drift` runs the suite so

After each test, each journal the test's fakes kept is read: every answered `POST
/v1/messages` (a 200 delivered whole) is validated with `Message.model_validate` (a JSON
body) or `RawMessageStreamEvent` (each stream event; `ping` and `error` frames are outside
the SDK's union), in their beta form: a superset of the GA types, and what a scripted reply
may carry whichever endpoint form the request used. A field the SDK's model does
not declare (pydantic keeps it in `model_extra`) fails the test, with its path.

The journals are found by wrapping `Journal.__init__` to remember each new journal (weakly):
the plugin observes, it changes nothing the fake does."""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from mockspike.model.faults import Fault
from mockspike.state.journal import Entry, Journal

_journals: list[weakref.ref[Journal]] = []
_checked: dict[int, int] = {}
"""id(journal) -> the number of the last entry judged (fixtures outlive one test)."""


def pytest_configure(config: pytest.Config) -> None:
    original = Journal.__init__

    def remembered(self: Journal, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _journals.append(weakref.ref(self))

    Journal.__init__ = remembered  # type: ignore[method-assign]


def _new_entries() -> Iterator[Entry]:
    alive = [(ref, j) for ref in _journals if (j := ref()) is not None]
    _journals[:] = [ref for ref, _ in alive]
    for ref, journal in alive:
        seen = _checked.get(id(journal), 0)
        try:
            entries = list(journal)
        except Exception:  # a journal whose shared state is gone (a Redis server stopped)
            _journals.remove(ref)
            continue
        for entry in entries:
            if entry.number > seen:
                _checked[id(journal)] = entry.number
                yield entry


@pytest.fixture(autouse=True)
def _replies_match_the_sdk() -> Iterator[None]:
    yield
    problems = [p for entry in _new_entries() for p in check_entry(entry)]
    if problems:
        pytest.fail("replies the SDK's types do not describe:\n" + "\n".join(problems[:20]))


def extras(value: Any, path: str) -> Iterator[str]:
    """Paths of fields a validated SDK model kept as unknown, at any depth."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        for name in value.model_extra or {}:
            yield f"{path}.{name}"
        for name in type(value).model_fields:
            yield from extras(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from extras(item, f"{path}.{i}")


def check_body(body: dict[str, Any], beta: bool = True) -> list[str]:
    """Problems of one JSON reply (empty: the SDK's `Message` describes it exactly)."""
    from anthropic.types import Message
    from anthropic.types.beta import BetaMessage
    from pydantic import ValidationError

    model = BetaMessage if beta else Message
    try:
        message = model.model_validate(body)
    except ValidationError as exc:
        return [f"{model.__name__}: {exc}"]
    return [f"unknown field {p}" for p in extras(message, model.__name__)]


def check_event(event: dict[str, Any], beta: bool = True) -> list[str]:
    """Problems of one stream event."""
    from anthropic.types import RawMessageStreamEvent
    from anthropic.types.beta import BetaRawMessageStreamEvent
    from pydantic import TypeAdapter, ValidationError

    if event.get("type") in ("ping", "error"):
        return []
    union: Any = BetaRawMessageStreamEvent if beta else RawMessageStreamEvent
    try:
        parsed = TypeAdapter(union).validate_python(event)
    except ValidationError as exc:
        return [f"event {event.get('type')}: {exc}"]
    return [f"unknown field {p}" for p in extras(parsed, str(event.get("type")))]


def check_entry(entry: Entry) -> list[str]:
    """Problems of one journal entry's reply; replies cut, faulted or kept truncated are
    not judged."""
    reply = entry.reply
    if entry.endpoint != "messages" or entry.status != 200 or reply is None:
        return []
    if reply.truncated or isinstance(entry.response, Fault):
        return []
    where = f"#{entry.number} {entry.method} {entry.path}"
    if reply.end is None:
        try:
            body = json.loads(reply.body)
        except ValueError:
            return []
        return [f"{where}: {p}" for p in check_body(body)]
    if reply.end != "message_stop":
        return []
    problems = []
    for frame in reply.events:
        data = next((ln[6:] for ln in frame.decode().splitlines() if ln.startswith("data: ")), "")
        problems += [f"{where}: {p}" for p in check_event(json.loads(data))]
    return problems
