"""How a request finds its recording, as vcrpy matches: a read-only table of small functions
by name. Each takes a recorded-form request (`method`, `path`, `headers`, `body`) and gives
a hashable; two requests match when every chosen function gives the same for both.

Pick them by name, `match_on=("path", "model")`, or pass your own function in their place,
`match_on=("path", last_user_text)`: the table is the same for every cassette in the
process. A new built-in matcher is one function and one row here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from mockspike import _json

Matcher = Callable[[dict[str, Any]], Any]
"""Takes a recorded-form request (`method`, `path`, `headers`, `body`), gives a hashable."""


def method(request: dict[str, Any]) -> Any:
    return request["method"]


def path(request: dict[str, Any]) -> Any:
    return request["path"]


def body(request: dict[str, Any]) -> Any:
    """The whole body, canonical (sorted keys): the default, with `ignore` paths left out."""
    return _json.canonical(request.get("body"))


def model(request: dict[str, Any]) -> Any:
    given = request.get("body")
    return given.get("model") if isinstance(given, dict) else None


def stream(request: dict[str, Any]) -> Any:
    given = request.get("body")
    return bool(given.get("stream")) if isinstance(given, dict) else False


MATCHERS: Mapping[str, Matcher] = MappingProxyType(
    {"method": method, "path": path, "body": body, "model": model, "stream": stream}
)
"""Read-only: the built-in matchers, by the names `match_on` takes."""


def resolve(match_on: Iterable[str | Matcher]) -> tuple[Matcher, ...]:
    """The functions `match_on` names (or gives); a `ValueError` names the unknown ones."""
    chosen = list(match_on)
    unknown = [m for m in chosen if not callable(m) and m not in MATCHERS]
    if unknown:
        raise ValueError(
            f"unknown matcher(s) {', '.join(map(str, unknown))}; known: {', '.join(MATCHERS)} "
            "(or pass a function of the recorded request in their place)"
        )
    return tuple(m if callable(m) else MATCHERS[m] for m in chosen)
