"""The build-time tools: the drift report names what the fake lacks (shown by hiding one model,
beta, request field or reply field from the fake's data), the regenerated data is what is
checked in, and the reply check refuses a field the SDK does not know."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from tools import drift, regenerate, reply_check


@pytest.fixture(scope="module")
def fake() -> drift.FakeFacts:
    return drift.FakeFacts.load()


@pytest.fixture(scope="module")
def sdk() -> drift.SdkFacts:
    return drift.python_sdk()


def _names(gaps: list[drift.Gap]) -> list[str]:
    return [g.name for g in gaps]


def test_nothing_is_missing_against_the_locked_sdk(capsys: pytest.CaptureFixture[str]) -> None:
    assert drift.main([]) == 0
    assert capsys.readouterr().out.startswith("drift: nothing missing against anthropic ")


def test_a_model_the_fake_does_not_serve_is_reported(
    sdk: drift.SdkFacts, fake: drift.FakeFacts
) -> None:
    hidden = "claude-opus-4-7"
    assert hidden in sdk.models
    models = {k: v for k, v in fake.models.items() if k != hidden}
    gaps = drift.model_gaps(sdk, dataclasses.replace(fake, models=models))
    assert _names(gaps) == [hidden]
    assert "lists it; the fake does not serve it" in gaps[0].why


def test_a_model_the_sdk_dropped_but_the_fake_serves_as_active_is_reported(
    fake: drift.FakeFacts,
) -> None:
    sdk = drift.SdkFacts("anthropic 9.9", models=["claude-haiku-4-5"], betas=[])
    models = {**fake.models, "claude-sonnet-4-5-20250929": (("claude-sonnet-4-5",), "active")}
    gaps = drift.model_gaps(sdk, dataclasses.replace(fake, models=models))
    dropped = [g for g in gaps if g.name == "claude-sonnet-4-5-20250929"]
    assert dropped and "no longer lists it" in dropped[0].why
    retired = dict(models, **{"claude-sonnet-4-5-20250929": (("claude-sonnet-4-5",), "retired")})
    gaps = drift.model_gaps(sdk, dataclasses.replace(fake, models=retired))
    assert "claude-sonnet-4-5-20250929" not in _names(gaps)


def test_a_model_the_sdk_deprecates_is_not_served_as_active(fake: drift.FakeFacts) -> None:
    sdk = drift.SdkFacts(
        "anthropic 9.9", ["claude-opus-4-7"], [], deprecated={"claude-opus-4-7": "May 1st, 2027"}
    )
    gaps = drift.model_gaps(sdk, fake)
    assert any(g.name == "claude-opus-4-7" and "May 1st, 2027" in g.why for g in gaps)


def test_a_beta_the_fake_refuses_is_reported(sdk: drift.SdkFacts, fake: drift.FakeFacts) -> None:
    hidden = "compact-2026-01-12"
    assert hidden in sdk.betas
    gaps = drift.beta_gaps(sdk, dataclasses.replace(fake, betas=fake.betas - {hidden}))
    assert _names(gaps) == [hidden]
    sent = drift.SdkFacts("sdk", [], [], sent_betas=["made-up-2030-01-01"])
    assert _names(drift.beta_gaps(sent, fake)) == ["made-up-2030-01-01"]


def test_a_request_field_the_schema_lacks_is_reported(fake: drift.FakeFacts) -> None:
    schema = copy.deepcopy(fake.request_schema)
    del schema["properties"]["tool_choice"]
    del schema["$defs"]["tool_choice_auto"]["properties"]["disable_parallel_tool_use"]
    names = _names(drift.request_gaps(schema))
    assert "messages.tool_choice" in names
    assert "tool_choice_auto.disable_parallel_tool_use" in names


def test_a_reply_field_or_block_the_schema_lacks_is_reported(fake: drift.FakeFacts) -> None:
    responses = copy.deepcopy(fake.responses)
    del responses["Usage"]["properties"]["cache_read_input_tokens"]
    del responses["ResponseBlock"]["discriminator"]["mapping"]["thinking"]
    del responses["DeltaUsage"]["properties"]["output_tokens"]
    names = _names(drift.reply_gaps(responses))
    assert "Message.usage.cache_read_input_tokens" in names
    assert "Message.content type `thinking`" in names
    assert "event[message_delta].usage.output_tokens" in names


def test_the_report_groups_gaps_by_the_file_to_change() -> None:
    gaps = [drift.Gap("beta", "b-2030-01-01", "why"), drift.Gap("model", "m", "why")]
    text = drift.report(gaps, ["anthropic 9.9"])
    assert text.index("Models (") < text.index("  m: why") < text.index("Beta names (")
    assert drift.report([], ["anthropic 9.9"]) == "drift: nothing missing against anthropic 9.9."


def test_the_typescript_sdk_is_read_from_its_declarations(tmp_path: Path) -> None:
    """The shape of @anthropic-ai/sdk's package: its `.d.ts` unions and compiled code."""
    (tmp_path / "resources/messages").mkdir(parents=True)
    (tmp_path / "resources/beta/messages").mkdir(parents=True)
    (tmp_path / "internal/data").mkdir(parents=True)
    (tmp_path / "package.json").write_text('{"version": "9.9.0"}')
    (tmp_path / "resources/messages/messages.d.ts").write_text(
        "export type Model = 'claude-a' | 'claude-b' | (string & {});\n"
    )
    (tmp_path / "resources/beta/beta.d.ts").write_text(
        "export type AnthropicBeta = (string & {}) | 'x-2025-01-01' | 'y-2026-02-02';\n"
    )
    (tmp_path / "resources/beta/messages/messages.js").write_text(
        "headers: { 'anthropic-beta': [...(betas ?? []), 'z-2025-12-15'].toString() },\n"
        "const released = 'some-date-2025-01-01';\n"
    )
    (tmp_path / "internal/data/deprecated-models.js").write_text(
        "exports.DEPRECATED_MODELS = {\n    'claude-a': 'June 30th, 2026',\n};\n"
    )
    facts = drift.typescript_sdk(tmp_path)
    assert facts.source == "@anthropic-ai/sdk 9.9.0"
    assert facts.models == ["claude-a", "claude-b"]
    assert facts.betas == ["x-2025-01-01", "y-2026-02-02"]
    assert facts.sent_betas == ["z-2025-12-15"]
    assert facts.deprecated == {"claude-a": "June 30th, 2026"}


def test_the_checked_in_data_is_what_regenerate_writes() -> None:
    stale = [str(path) for path, text in regenerate.generate().items() if path.read_text() != text]
    assert not stale, "run `python -m tools.regenerate` (or `nox -s regenerate`): " + str(stale)


def test_regenerate_reads_the_sdks_end_of_life_dates() -> None:
    assert regenerate.eol_date("January 22nd, 2027") == "2027-01-22T00:00:00Z"
    assert regenerate.eol_date("June 1st, 2026") == "2026-06-01T00:00:00Z"
    with pytest.raises(ValueError, match="cannot read"):
        regenerate.eol_date("soon")


def test_regenerate_adds_a_reply_field_it_finds_missing(fake: drift.FakeFacts) -> None:
    responses = copy.deepcopy(fake.responses)
    del responses["Usage"]["properties"]["service_tier"]
    filled = regenerate.responses(responses)
    assert "service_tier" in filled["Usage"]["properties"]
    assert drift.reply_gaps(filled) == []


REPLY = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-opus-4-7",
    "content": [{"type": "text", "text": "Hi"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 1},
}


def test_the_reply_check_refuses_what_the_sdk_does_not_know() -> None:
    assert reply_check.check_body(REPLY, beta=False) == []
    odd = json.loads(json.dumps(REPLY))
    odd["usage"]["surprise"] = 1
    assert reply_check.check_body(odd, beta=False) == ["unknown field Message.usage.surprise"]
    missing = {k: v for k, v in REPLY.items() if k != "usage"}
    assert reply_check.check_body(missing, beta=True)[0].startswith("BetaMessage: 1 validation")
    event = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta"}}
    assert reply_check.check_event(event, beta=False)[0].startswith("event content_block_delta")
    assert reply_check.check_event({"type": "ping"}, beta=False) == []
