"""`regex=` matchers run on RE2, a linear-time engine: a match takes time proportional to
the text whatever the pattern, so no scripted rule can freeze the server. (Python's `re`
backtracks: `^(a+)+$` against 27 characters ending in `!` takes seconds, and each extra
character doubles it.)

RE2 has no backreferences, lookaround, atomic groups or possessive quantifiers (they need
backtracking): a pattern using one is refused when the rule is made, naming the feature.
`\\w`, `\\d`, `\\s` and `\\b` are ASCII-only in RE2; use `\\pL`, `\\pN` for letters and
digits of every script."""

from __future__ import annotations

import re
from typing import Any, Protocol

import re2


class Regex(Protocol):
    """What a compiled matcher pattern offers (an RE2 pattern)."""

    @property
    def pattern(self) -> str: ...

    def search(self, text: str) -> Any: ...


class RegexError(ValueError):
    """A `regex=` pattern the linear-time engine cannot run; the message says why."""


#: RE2's parse error (its start) -> the feature the pattern used, in words.
_FEATURES = (
    ("invalid escape sequence: \\1", "a backreference (\\1)"),
    ("invalid escape sequence: \\Z", "\\Z (RE2 spells it \\z)"),
    ("invalid perl operator: (?=", "a lookahead (?=...)"),
    ("invalid perl operator: (?!", "a negative lookahead (?!...)"),
    ("invalid perl operator: (?<=", "a lookbehind (?<=...)"),
    ("invalid perl operator: (?<!", "a negative lookbehind (?<!...)"),
    ("invalid perl operator: (?>", "an atomic group (?>...)"),
    ("invalid perl operator: (?P", "a named backreference (?P=name)"),
    ("bad repetition operator: ++", "a possessive quantifier (++)"),
    ("bad repetition operator: *+", "a possessive quantifier (*+)"),
    ("bad repetition operator: ?+", "a possessive quantifier (?+)"),
)
_INLINE_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the error goes to the user, not to stderr


def compile_regex(value: Any) -> Regex:
    """An RE2 pattern from a string or a compiled `re.Pattern` (flags i, m, s carried)."""
    if isinstance(value, re.Pattern):
        value = _from_re(value)
    if not isinstance(value, str):
        raise RegexError(f"regex must be a string pattern, not {value!r}")
    try:
        compiled: Regex = re2.compile(value, _OPTIONS)
    except re2.error as exc:
        raise RegexError(_explain(value, exc)) from None
    return compiled


def _from_re(pattern: re.Pattern[Any]) -> str:
    if not isinstance(pattern.pattern, str):
        raise RegexError(f"regex must be a text pattern, not bytes: {pattern.pattern!r}")
    unsupported = pattern.flags & re.VERBOSE
    if unsupported:
        raise RegexError(f"regex {pattern.pattern!r}: re.VERBOSE is not supported by RE2")
    flags = "".join(letter for flag, letter in _INLINE_FLAGS if pattern.flags & flag)
    return f"(?{flags}){pattern.pattern}" if flags else pattern.pattern


def _explain(pattern: str, exc: Exception) -> str:
    detail = exc.args[0] if exc.args else exc
    reason = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    if reason.startswith("invalid escape sequence: \\") and reason[-1:].isdigit():
        reason = "invalid escape sequence: \\1"
    feature = next((words for start, words in _FEATURES if reason.startswith(start)), None)
    if feature is None:
        return f"regex {pattern!r} is not valid: {reason}"
    return (
        f"regex {pattern!r} uses {feature}, which the linear-time regex engine (RE2) does "
        "not support; matchers use it so that no pattern can freeze the server"
    )
