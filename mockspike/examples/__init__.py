"""Example cassettes shipped with the package: a text reply, a tool-use turn, a stream and an
error, recorded by mockspike's recorder against a mockspike fake (each says so in its
`note`; `python fixtures/record.py` in the repository records them again).

`MockSpike(cassette=examples.path("text.json"))`"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """The shipped example cassette `name` (`text.json`, `tool_use.json`, `streaming.json`,
    `error.json`)."""
    found = FOLDER / name
    if found.suffix != ".json" or not found.is_file():
        shipped = ", ".join(sorted(p.name for p in FOLDER.glob("*.json")))
        raise FileNotFoundError(f"no example cassette {name!r}; shipped: {shipped}")
    return found
