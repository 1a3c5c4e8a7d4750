"""The gateway's arithmetic on a fake clock: token buckets, wallets and the prompt cache."""

from __future__ import annotations

import json

import pytest

from mockspike import Engine, FakeClock, GatewayConfig
from mockspike.gateway.cache import PromptCache
from mockspike.gateway.keys import RateLimits
from mockspike.gateway.limits import Gateway
from mockspike.model.errors import ApiError
from tests.unit.conftest import BODY, error, post

LIMITS = RateLimits(
    requests_per_minute=2, input_tokens_per_minute=1000, output_tokens_per_minute=100
)


def gateway(clock: FakeClock, wallet: float | None = None) -> Gateway:
    keys = {"k": {"wallet": wallet}} if wallet is not None else {"k": {}}
    return Gateway(GatewayConfig.from_dict({"keys": keys}), LIMITS, clock)


def test_requests_bucket_refills_continuously() -> None:
    clock = FakeClock()
    gw = gateway(clock)
    for _ in range(2):
        gw.settle(gw.admit("k", 0.0, 1, 1), 1, 0.0)
    with pytest.raises(ApiError) as refused:
        gw.admit("k", 0.0, 1, 1)
    assert refused.value.status == 429
    assert refused.value.headers["retry-after"] == "30"  # one request refills in 60/2 s
    clock.advance(30)
    gw.admit("k", 0.0, 1, 1)


def test_unused_output_reservation_is_given_back() -> None:
    clock = FakeClock()
    gw = gateway(clock)
    headers = gw.settle(gw.admit("k", 0.0, 10, 100), 40, 0.0)
    assert headers["anthropic-ratelimit-output-tokens-remaining"] == "60"
    assert headers["anthropic-ratelimit-input-tokens-remaining"] == "990"
    assert headers["anthropic-ratelimit-requests-remaining"] == "1"


def test_more_than_the_capacity_waits_a_minute() -> None:
    gw = gateway(FakeClock())
    with pytest.raises(ApiError) as refused:
        gw.admit("k", 0.0, 5000, 1)
    assert refused.value.headers["retry-after"] == "60"
    assert "1,000 input tokens per minute" in refused.value.message


def test_wallet_is_debited_and_refuses_past_its_balance() -> None:
    gw = gateway(FakeClock(), wallet=1.0)
    gw.settle(gw.admit("k", 0.5, 1, 1), 1, 0.75)
    assert gw.wallets["k"] == pytest.approx(0.25)
    with pytest.raises(ApiError) as refused:
        gw.admit("k", 0.5, 1, 1)
    assert refused.value.status == 402
    assert gw.top_up("k", 1.0) == pytest.approx(1.25)


def test_refused_answers_are_not_billed() -> None:
    config = GatewayConfig.from_dict({"keys": {"sk-unit": {"wallet": 5.0}}})
    engine = Engine(config=config)
    engine.new_rule().fail(500)
    assert engine.handle(post()).status == 500
    assert engine.gateway.wallets["sk-unit"] == 5.0


CACHED = {
    **BODY,
    "system": [{"type": "text", "text": "x" * 20000, "cache_control": {"type": "ephemeral"}}],
}


def test_cache_writes_then_reads_until_the_ttl_passes() -> None:
    clock = FakeClock()
    cache = PromptCache(clock)
    model = Engine().profile.model("claude-haiku-4-5")
    first = cache.use("k", model, CACHED)
    assert first.read == 0 and first.write_5m > 0 and first.in_play
    second = cache.use("k", model, CACHED)
    assert second.read == first.write_5m and second.written == 0
    assert cache.use("other-key", model, CACHED).read == 0  # kept per key
    clock.advance(301)
    assert cache.use("k", model, CACHED).read == 0
    assert [(e["api_key"], e["ttl"]) for e in cache.entries()] == [("k", "5m")]  # rewritten


def test_prefixes_below_the_model_minimum_are_not_cached() -> None:
    cache = PromptCache(FakeClock())
    model = Engine().profile.model("claude-haiku-4-5")
    small = {
        **BODY,
        "system": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}],
    }
    usage = cache.use("k", model, small)
    assert usage.in_play and usage.written == 0 and cache.entries() == []


def test_cached_tokens_are_not_billed_as_input() -> None:
    engine = Engine()
    plain = engine.handle(post(body={**CACHED, "system": "x" * 20000}))
    assert plain.status == 200
    engine.handle(post(body=CACHED))
    again = engine.handle(post(body=CACHED))
    assert again.status == 200, error(again)
    assert engine.journal.last.input_tokens < engine.journal[0].input_tokens


def _escaped(body: dict[str, object], word: str) -> bytes:
    """`body` as JSON with every `word` spelled with a \\u escape (valid JSON, same value)."""
    raw = json.dumps(body)
    assert f'"{word}"' in raw
    return raw.replace(f'"{word}"', '"' + word[:-1] + f"\\u{ord(word[-1]):04x}" + '"').encode()


def test_a_cache_breakpoint_spelled_with_an_escape_is_still_a_breakpoint() -> None:
    plain, escaped = Engine(), Engine()
    assert plain.handle(post(body=CACHED)).status == 200
    request = post(body=CACHED)
    request.body = _escaped(CACHED, "cache_control")
    assert b"cache_control" not in request.body
    assert escaped.handle(request).status == 200

    def cached(engine: Engine) -> list[tuple[object, ...]]:
        return [(e["api_key"], e["model"], e["tokens"], e["ttl"]) for e in engine.cache.entries()]

    assert cached(escaped) and cached(escaped) == cached(plain)
    five = {
        **BODY,
        "system": [
            {"type": "text", "text": f"part {n}", "cache_control": {"type": "ephemeral"}}
            for n in range(5)
        ],
    }
    request = post(body=five)
    request.body = _escaped(five, "cache_control")
    assert "A maximum of 4 blocks with cache_control" in error(escaped.handle(request))["message"]
