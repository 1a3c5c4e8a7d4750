"""A newcomer's scripting mistakes are refused when scripted, with the field and the fix."""

from __future__ import annotations

import pytest

from mockspike import MockSpike, Pacing
from mockspike.script.files import SpecError


@pytest.mark.parametrize(
    ("script", "error", "message"),
    [
        (lambda f: f.fail(429, retry_after="soon"), ValueError, "retry_after must be a number"),
        (lambda f: f.fail("429"), ValueError, "status must be a whole number, not '429'"),
        (lambda f: f.fault("stall", seconds="soon"), ValueError, "seconds must be a number"),
        (lambda f: f.fault("stal"), ValueError, "unknown fault 'stal'; choose drop, malformed"),
        (lambda f: f.reply(txt="hi"), TypeError, "unknown field 'txt'; did you mean 'text'?"),
        (
            lambda f: f.reply("hi", timing={"tps": 5}),
            TypeError,
            "timing: unknown field 'tps'; did you mean 'tokens_per_second'?",
        ),
        (lambda f: f.reply("hi", stop_reason="done"), ValueError, "stop_reason is one the API"),
        (lambda f: f.on(txt="hi"), TypeError, "unknown matcher 'txt'; did you mean 'text'?"),
        (lambda f: f.on(regex="order (#"), ValueError, "is not valid: missing"),
    ],
)
def test_a_bad_scripted_value_is_refused_at_once(script: object, error: type, message: str) -> None:
    fake = MockSpike()
    with pytest.raises(error, match=message.replace("(", r"\(").replace("?", r"\?")):
        script(fake)  # type: ignore[operator]
    assert fake.rules == []  # nothing half-built is left to answer, or to fail as unused


def test_stop_reasons_are_the_apis_set() -> None:
    fake = MockSpike()
    for reason in ("pause_turn", "refusal", "model_context_window_exceeded"):
        fake.reply("ok", stop_reason=reason)
    with pytest.raises(ValueError, match=r"one the API sends .* not 'done'"):
        fake.reply("ok", stop_reason="done")


def test_timing_as_a_dict_is_the_pacing() -> None:
    rule = MockSpike().reply("hi", timing={"ttft": 0.5, "tokens_per_second": 40})
    assert rule.responses[0].timing == Pacing(ttft=0.5, tokens_per_second=40)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"respond": {"reply": {"txt": "hi"}}}, "rules[0].respond[0]: reply: unknown field 'txt'"),
        (
            {"name": "slow", "respond": {"fault": {"kind": "stall", "seconds": "soon"}}},
            "rules[0] ('slow').respond[0]: fault: seconds must be a number, not 'soon'",
        ),
        (
            {"respond": {"fail": {"retry_after": 1}}},
            "rules[0].respond[0]: fail: 'status' is required",
        ),
        (
            {"respond": {"reply_tool_use": {"input": {}}}},
            "rules[0].respond[0]: reply_tool_use: 'name' is required",
        ),
        ({"match": {"regex": "("}, "respond": {"reply": {"text": "x"}}}, "is not valid: missing"),
        ({"respnd": {"reply": {"text": "x"}}}, "unknown field 'respnd'; did you mean 'respond'?"),
        ({"times": "two", "respond": {"reply": {"text": "x"}}}, "times must be a whole number"),
        (
            {"respond": {"reply": {"text": "x", "timing": {"tps": 5}}}},
            "timing: unknown field 'tps'",
        ),
    ],
)
def test_a_bad_script_file_rule_names_the_rule_and_field(rule: dict, message: str) -> None:
    fake = MockSpike()
    fake.on(text="kept").reply("an earlier rule stays")
    with pytest.raises(SpecError) as info:
        fake.load_script({"rules": [{"respond": {"reply": {"text": "fine"}}}, rule]})
    assert message.replace("rules[0]", "rules[1]") in str(info.value)
    assert len(fake.rules) == 1  # the script is all or nothing: the first rule was taken back


def _ask(fake: MockSpike, text: str = "weather in Paris?") -> dict[str, object]:
    from mockspike import WireRequest
    from mockspike._json import dumps, loads

    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": text}],
    }
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    response = fake.engine.handle(WireRequest("POST", "/v1/messages", headers, dumps(body)))
    return {"status": response.status, **loads(response.body)}


def test_a_queued_one_shot_answers_before_an_earlier_standing_rule() -> None:
    fake = MockSpike()
    fake.load_script(
        {"rules": [{"match": {"text": "weather"}, "respond": {"reply": {"text": "Sunny"}}}]}
    )
    fake.on().reply("catch-all")
    fake.fail(529)  # "the next request gets this"
    fake.reply("queued second")
    assert _ask(fake)["status"] == 529
    assert _ask(fake)["content"][0]["text"] == "queued second"  # type: ignore[index]
    assert _ask(fake)["content"][0]["text"] == "Sunny"  # type: ignore[index]
    assert _ask(fake, "hello")["content"][0]["text"] == "catch-all"  # type: ignore[index]


def test_a_queued_one_shot_from_data_also_comes_first() -> None:
    fake = MockSpike()
    fake.on().reply("standing")
    fake.queue({"fail": {"status": 429, "retry_after": 0}})
    assert [_ask(fake)["status"], _ask(fake)["status"]] == [429, 200]
