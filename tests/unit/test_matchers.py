"""Matchers added as one row of `MATCHERS` work everywhere a matcher is named: `on()`, script
files, strict mode's explanation of a miss. The `thinking` matcher shows it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockspike import MockSpike

from .conftest import BODY, error, post

THINKING: dict[str, Any] = {
    **BODY,
    "max_tokens": 2048,
    "thinking": {"type": "enabled", "budget_tokens": 1024},
}


def _text(fake: MockSpike, body: dict[str, Any]) -> str:
    reply = json.loads(fake.engine.handle(post(body=body)).body)
    return str(reply["content"][-1]["text"])


def test_a_rule_matches_whether_extended_thinking_is_on() -> None:
    with MockSpike() as fake:
        fake.on(thinking=True).reply("thought it through")
        fake.on(thinking=False).reply("a quick answer")
        assert _text(fake, THINKING) == "thought it through"
        assert _text(fake, BODY) == "a quick answer"
        disabled = {**BODY, "thinking": {"type": "disabled"}}
        assert _text(fake, disabled) == "a quick answer"


def test_a_script_file_names_the_thinking_matcher() -> None:
    with MockSpike() as fake:
        fake.load_script(
            {"rules": [{"match": {"thinking": True}, "respond": {"reply": {"text": "deep"}}}]}
        )
        assert _text(fake, THINKING) == "deep"


def test_strict_mode_says_why_the_thinking_rule_missed() -> None:
    with MockSpike(strict=True) as fake:
        fake.on(thinking=True).reply("deep")
        refused = error(fake.engine.handle(post()))
        assert "extended thinking is off" in refused["message"]


def test_a_wrong_value_is_refused_when_scripted() -> None:
    with MockSpike() as fake, pytest.raises(ValueError, match="thinking must be true or false"):
        fake.on(thinking="yes")
