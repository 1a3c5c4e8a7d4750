"""Replies built from the request: script-file templates render the request's values, are
refused at load when they reach beyond them, and fail clearly (naming the rule) when the
request lacks what they name."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockspike import MockSpike
from mockspike.script.files import SpecError
from mockspike.script.templates import MAX_OUTPUT

from .conftest import BODY, body, error, post


def answer(fake: MockSpike, **changes: Any) -> Any:
    response = fake.engine.handle(post(body={**BODY, **changes}, headers={"x-ticket": "T-77"}))
    return response, json.loads(body(response))


def script(*respond: dict[str, Any], **rule: Any) -> dict[str, Any]:
    return {"rules": [{"respond": list(respond), **rule}]}


def test_reply_text_echoes_the_request() -> None:
    fake = MockSpike()
    fake.load_script(
        script(
            {
                "reply": {
                    "text": "Ticket {{ headers['x-ticket'] }} for {{ body.metadata.user_id }} "
                    "on {{ model }}: {{ text|upper }} (answer #{{ count }}); "
                    "key {{ headers['x-api-key'] }}"
                }
            }
        )
    )
    _, message = answer(fake, metadata={"user_id": "u-5"})
    assert message["content"][0]["text"] == (
        "Ticket T-77 for u-5 on claude-haiku-4-5: SAY HELLO. (answer #1); key [redacted]"
    )
    _, again = answer(fake, metadata={"user_id": "u-5"})
    assert again["content"][0]["text"].endswith("(answer #2); key [redacted]")


def test_usage_is_counted_from_the_rendered_text() -> None:
    fake = MockSpike()
    fake.load_script(
        script({"reply": {"text": "{% for m in body.messages %}{{ text }} {% endfor %}"}})
    )
    _, short = answer(fake)
    turns = [{"role": "user", "content": "word " * 200}]
    _, long = answer(fake, messages=turns)
    assert long["usage"]["output_tokens"] > 10 * short["usage"]["output_tokens"]


def test_tool_input_answers_the_tool_result_it_was_given() -> None:
    fake = MockSpike()
    fake.load_script(
        script(
            {
                "reply_tool_use": {
                    "name": "lookup",
                    "input": {"order": "{{ text }}", "tools": ["{{ tools|join(',') }}"]},
                }
            },
            {"reply": {"text": "Done with {{ tool_use_ids|first }}"}},
        )
    )
    tools = [{"name": "lookup", "input_schema": {"type": "object"}}]
    _, first = answer(fake, tools=tools)
    call = first["content"][-1]
    assert call["input"] == {"order": "Say hello.", "tools": ["lookup"]}
    turns = [
        *BODY["messages"],
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"]}]},
    ]
    _, second = answer(fake, tools=tools, messages=turns)
    assert second["content"][0]["text"] == f"Done with {call['id']}"


def test_failure_message_is_a_template() -> None:
    fake = MockSpike()
    fake.load_script(script({"fail": {"status": 429, "message": "slow down, {{ model }}"}}))
    response, _ = answer(fake)
    assert response.status == 429
    assert error(response)["message"] == "slow down, claude-haiku-4-5"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ body.__class__ }}", "attribute '__class__' is not allowed"),
        ("{{ body['__init__'] }}", "item '__init__' is not allowed"),
        ("{{ body.items() }}", "call is not allowed"),
        ("{{ lipsum() }}", "call is not allowed"),
        ("{{ cycler }}", "unknown name 'cycler'"),
        ("{{ range(10) }}", "call is not allowed"),
        ("{{ text|attr('upper') }}", "unknown filter 'attr'"),
        ("{% include 'secrets.txt' %}", "include is not allowed"),
        ("{% import 'x' as y %}", "import is not allowed"),
        ("{% set x = text %}{{ x }}", "assign is not allowed"),
        ("{{ text * 1000000 }}", "mul is not allowed"),
        ("{{ text ", "unexpected end of template"),
    ],
)
def test_templates_that_reach_beyond_the_request_are_refused_at_load(
    template: str, problem: str
) -> None:
    fake = MockSpike()
    with pytest.raises(SpecError) as refused:
        fake.load_script(script({"reply": {"text": template}}, name="greeting"))
    assert "rules[0] ('greeting').respond[0]" in str(refused.value)
    assert problem in str(refused.value)
    assert fake.rules == []  # nothing half-loaded


def test_a_field_the_request_lacks_is_a_clear_500_naming_the_rule() -> None:
    fake = MockSpike()
    fake.load_script(script({"reply": {"text": "{{ body.metadata.user_id }}"}}, name="who"))
    response, _ = answer(fake)
    assert response.status == 500
    assert response.headers["x-should-retry"] == "false"
    message = error(response)["message"]
    assert "rule #1 'who'" in message and "has no attribute 'metadata'" in message


def test_output_is_bounded() -> None:
    fake = MockSpike()
    fake.load_script(script({"reply": {"text": "{{ text|replace('a', text) }}"}}))
    response, _ = answer(fake, messages=[{"role": "user", "content": "a" * 1000}])
    assert response.status == 500
    assert f"more than {MAX_OUTPUT} characters" in error(response)["message"]
    fake.reset()
    fake.load_script(
        script({"reply": {"text": "{% for m in body.messages %}{{ text }}{% endfor %}"}})
    )
    turns = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": "x" * 4000} for i in range(41)
    ]
    response, _ = answer(fake, messages=turns)
    assert response.status == 500
    assert f"more than {MAX_OUTPUT} characters" in error(response)["message"]


def test_python_replies_are_not_templates() -> None:
    fake = MockSpike()
    fake.on().reply("{{ text }} stays as written")
    _, message = answer(fake)
    assert message["content"][0]["text"] == "{{ text }} stays as written"
