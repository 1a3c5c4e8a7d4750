"""Scripted `regex=` matchers run in linear time: no pattern can freeze the fake."""

from __future__ import annotations

import json
import re
import threading

import pytest

from mockspike import MockSpike
from mockspike.model.wire import WireRequest
from mockspike.script.regex import RegexError, compile_regex

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json"}


def ask(fake: MockSpike, text: str) -> int:
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 8,
        "messages": [{"role": "user", "content": text}],
    }
    raw = json.dumps(body).encode()
    return fake.engine.handle(WireRequest("POST", "/v1/messages", HEADERS, raw)).status


def test_a_catastrophic_pattern_answers_at_once() -> None:
    fake = MockSpike(strict=True)
    fake.on(regex=r"^(a+)+$").reply("matched")
    result: list[int] = []
    # Python's re needs minutes for this; the worker finishing at all within the join is
    # the check (no timing assertion: a backtracking engine would still be running).
    worker = threading.Thread(target=lambda: result.append(ask(fake, "a" * 40 + "!")))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive() and result == [400]  # no match: strict mode refuses
    assert ask(fake, "a" * 40) == 200


@pytest.mark.parametrize(
    ("pattern", "feature"),
    [
        (r"(a)\1", "a backreference"),
        (r"(?P<x>a)(?P=x)", "a named backreference"),
        (r"foo(?=bar)", "a lookahead"),
        (r"foo(?!bar)", "a negative lookahead"),
        (r"(?<=x)y", "a lookbehind"),
        (r"(?<!x)y", "a negative lookbehind"),
        (r"(?>a+)", "an atomic group"),
        (r"a++", "a possessive quantifier"),
    ],
)
def test_backtracking_features_are_refused_naming_the_rule_and_feature(
    pattern: str, feature: str
) -> None:
    with pytest.raises(RegexError) as info:
        MockSpike().on(regex=pattern, name="refunds").reply("x")
    message = str(info.value)
    assert message.startswith(f"rule 'refunds': regex {pattern!r} uses {feature}")
    assert "RE2" in message


def test_script_files_and_invalid_patterns_say_where() -> None:
    fake = MockSpike()
    script = {"rules": [{"match": {"regex": "(?=x)"}, "respond": {"reply": {"text": "a"}}}]}
    with pytest.raises(ValueError, match=r"^rules\[0\]: regex '\(\?=x\)' uses a lookahead"):
        fake.load_script(script)
    with pytest.raises(RegexError, match=r"regex 'a\(' is not valid: missing \)"):
        fake.on(regex="a(")


def test_compiled_python_patterns_keep_their_flags() -> None:
    fake = MockSpike(strict=True)
    fake.on(regex=re.compile("^WEATHER", re.IGNORECASE | re.MULTILINE)).reply("sunny")
    assert ask(fake, "hello\nweather please") == 200
    with pytest.raises(RegexError, match="VERBOSE"):
        compile_regex(re.compile("a b", re.VERBOSE))


@pytest.mark.anyio
async def test_the_admin_api_refuses_a_backtracking_pattern_with_a_400() -> None:
    from tests.conftest import call_asgi

    body = b'{"match": {"regex": "(a)\\\\1"}, "respond": {"reply": {"text": "x"}}}'
    sent = await call_asgi(
        MockSpike().app,
        "POST",
        "/_mockspike/rules",
        body=body,
        headers={"content-type": "application/json"},
    )
    assert sent[0]["status"] == 400
    assert b"uses a backreference" in sent[1]["body"]
