"""Strings that match a JSON Schema `format` or `pattern`, drawn from a caller's `Random`.

Patterns are parsed with Python's own regex parser and walked with the caller's generator, so
a draw is deterministic, costs work in proportion to the string it makes, and refuses the
constructs the API refuses in structured outputs (backreferences, lookaround, word
boundaries). Off-the-shelf regex samplers draw from the global `random` module or cannot be
held to a work budget, which the fake needs for hostile schemas.
"""

from __future__ import annotations

import random
import re
import string
import sys
import uuid
from collections.abc import Callable
from typing import Any

if sys.version_info >= (3, 11):
    from re import _constants as sre_constants  # type: ignore[attr-defined,unused-ignore]
    from re import _parser as sre_parse  # type: ignore[attr-defined,unused-ignore]
else:
    import sre_constants
    import sre_parse

WORDS = (
    "paris", "order", "late", "sample", "alpha", "delivery", "ticket", "river", "amber",
    "north", "signal", "harbor", "cedar", "quartz", "meadow", "lumen", "atlas", "orbit",
)  # fmt: skip
_PRINTABLE = [chr(c) for c in range(32, 127)]
_WORD_CHARS = string.ascii_letters + string.digits + "_"
_CATEGORIES: dict[Any, str] = {
    sre_constants.CATEGORY_DIGIT: string.digits,
    sre_constants.CATEGORY_SPACE: " \t",
    sre_constants.CATEGORY_WORD: _WORD_CHARS,
    sre_constants.CATEGORY_NOT_DIGIT: string.ascii_letters + "_-",
    sre_constants.CATEGORY_NOT_SPACE: _WORD_CHARS + "-.",
    sre_constants.CATEGORY_NOT_WORD: " -.,:;!?",
    sre_constants.CATEGORY_LINEBREAK: "\n",
    sre_constants.CATEGORY_NOT_LINEBREAK: _WORD_CHARS,
}
_CATEGORY_REGEX: dict[Any, str] = {
    sre_constants.CATEGORY_DIGIT: r"\d",
    sre_constants.CATEGORY_NOT_DIGIT: r"\D",
    sre_constants.CATEGORY_SPACE: r"\s",
    sre_constants.CATEGORY_NOT_SPACE: r"\S",
    sre_constants.CATEGORY_WORD: r"\w",
    sre_constants.CATEGORY_NOT_WORD: r"\W",
    sre_constants.CATEGORY_LINEBREAK: r"\n",
    sre_constants.CATEGORY_NOT_LINEBREAK: r".",
}
_REPEATS = {
    sre_constants.MAX_REPEAT,
    sre_constants.MIN_REPEAT,
    getattr(sre_constants, "POSSESSIVE_REPEAT", sre_constants.MAX_REPEAT),
}
_ATOMIC = getattr(sre_constants, "ATOMIC_GROUP", None)
#: How many repeats beyond the minimum an open-ended quantifier (`*`, `+`, `{n,}`) draws.
_OPEN_REPEAT = 4


class PatternError(ValueError):
    """A pattern the fake cannot (or the API would not) generate strings for."""


class WorkExceeded(PatternError):
    """The pattern needs more work than the budget allows (e.g. `a{100000000}`)."""


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2020, 2026):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


def _host(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)}.example.com"


def _ipv6(rng: random.Random) -> str:
    return "2001:db8:" + ":".join(f"{rng.getrandbits(16):x}" for _ in range(6))


#: Each supported `format` and how to draw one (the Anthropic SDK's supported list, plus a
#: few cheap ones). Documentation address ranges and `example.com` keep values harmless.
FORMATS: dict[str, Callable[[random.Random], str]] = {
    "date-time": lambda rng: f"{_date(rng)}T{_time(rng)}",
    "date": _date,
    "time": _time,
    "duration": lambda rng: f"P{rng.randint(1, 9)}DT{rng.randint(1, 23)}H{rng.randint(1, 59)}M",
    "email": lambda rng: f"{rng.choice(WORDS)}.{rng.choice(WORDS)}@example.com",
    "hostname": _host,
    "uri": lambda rng: f"https://{_host(rng)}/{rng.choice(WORDS)}/{rng.randint(1, 999)}",
    "uri-reference": lambda rng: f"/{rng.choice(WORDS)}/{rng.randint(1, 999)}",
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "ipv4": lambda rng: (
        f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randint(1, 254)}"
    ),
    "ipv6": _ipv6,
    "json-pointer": lambda rng: f"/{rng.choice(WORDS)}/{rng.randint(0, 9)}",
}


def words(rng: random.Random, low: int, high: int | None) -> str:
    """A few words, `low` to `high` characters long (the caller checks low <= high)."""
    top = high if high is not None else max(low, 40)
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
    while len(text) < low:
        text += " " + rng.choice(WORDS)
    if len(text) > top:
        cut = text[:top]
        whole = cut.rsplit(" ", 1)[0]
        text = whole if len(whole) >= low else cut
    return text[:-1] + "s" if text.endswith(" ") else text


def parse_pattern(pattern: str) -> Any:
    """The parsed pattern (checked once, so errors name the pattern, not a draw)."""
    try:
        parsed = sre_parse.parse(pattern)
    except Exception as error:  # re.error, and the parser's own overflow errors
        raise PatternError(
            f"pattern {pattern!r} is not a valid regular expression: {error}"
        ) from None
    return parsed


def from_pattern(pattern: str, rng: random.Random, work: int) -> str:
    """A string `re.search(pattern, s)` matches, within `work` steps."""
    out: list[str] = []
    _Walker(rng, work, pattern).walk(parse_pattern(pattern), out)
    return "".join(out)


class _Walker:
    def __init__(self, rng: random.Random, work: int, pattern: str) -> None:
        self.rng = rng
        self.work = work
        self.pattern = pattern

    def spend(self, steps: int) -> None:
        self.work -= steps
        if self.work < 0:
            raise WorkExceeded(f"pattern {self.pattern!r} needs more work than mockspike allows")

    def walk(self, items: Any, out: list[str]) -> None:
        for op, arg in items:
            self.spend(1)
            self.node(op, arg, out)

    def node(self, op: Any, arg: Any, out: list[str]) -> None:
        c = sre_constants
        if op is c.LITERAL:
            out.append(chr(arg))
        elif op is c.NOT_LITERAL:
            out.append(self.rng.choice([ch for ch in _PRINTABLE if ord(ch) != arg]))
        elif op is c.ANY:
            out.append(self.rng.choice(_WORD_CHARS))
        elif op is c.IN:
            out.append(self.char_in(arg))
        elif op is c.BRANCH:
            self.walk(self.rng.choice(arg[1]), out)
        elif op is c.SUBPATTERN:
            self.walk(arg[-1], out)
        elif op in _REPEATS:
            low, high, sub = arg
            top = low + _OPEN_REPEAT if high is c.MAXREPEAT else min(high, low + _OPEN_REPEAT)
            count = self.rng.randint(low, top)
            self.spend(count)
            for _ in range(count):
                self.walk(sub, out)
        elif op is _ATOMIC:
            self.walk(arg, out)
        elif op is c.AT:
            if arg in (c.AT_BOUNDARY, c.AT_NON_BOUNDARY):
                raise PatternError(f"pattern {self.pattern!r}: word boundaries are not supported")
        elif op in (c.GROUPREF, c.GROUPREF_EXISTS):
            raise PatternError(f"pattern {self.pattern!r}: backreferences are not supported")
        elif op in (c.ASSERT, c.ASSERT_NOT):
            raise PatternError(
                f"pattern {self.pattern!r}: lookahead and lookbehind are not supported"
            )
        else:
            raise PatternError(f"pattern {self.pattern!r}: {op} is not supported")

    def char_in(self, items: list[tuple[Any, Any]]) -> str:
        c = sre_constants
        if items and items[0][0] is c.NEGATE:
            allowed = [ch for ch in _PRINTABLE if not _member(ch, items[1:])]
            if not allowed:
                raise PatternError(f"pattern {self.pattern!r}: a class no character fits")
            return self.rng.choice(allowed)
        op, arg = self.rng.choice(items)
        if op is c.LITERAL:
            return chr(arg)
        if op is c.RANGE:
            return chr(self.rng.randint(arg[0], arg[1]))
        if op is c.CATEGORY:
            return self.rng.choice(_CATEGORIES[arg])
        raise PatternError(f"pattern {self.pattern!r}: {op} in a class is not supported")


def _member(ch: str, items: list[tuple[Any, Any]]) -> bool:
    c = sre_constants
    for op, arg in items:
        if op is c.LITERAL and ord(ch) == arg:
            return True
        if op is c.RANGE and arg[0] <= ord(ch) <= arg[1]:
            return True
        if op is c.CATEGORY and re.fullmatch(_CATEGORY_REGEX[arg], ch):
            return True
    return False
