"""The latency model's schedule (delays are computed, not measured: timing lives in
benchmarks/)."""

from __future__ import annotations

import json

import pytest

from mockspike import Engine, Pacing, WireRequest
from mockspike.render.sse import output_tokens
from tests.conftest import HEADERS, SEED_BODY


def request(**changes: object) -> WireRequest:
    body = json.dumps({**SEED_BODY, **changes}).encode()
    return WireRequest("POST", "/v1/messages", dict(HEADERS), body)


def stream_delays(engine: Engine) -> tuple[list[float], float]:
    """The delays of a stream, and the tokens after the first delta (the paced ones)."""
    response = engine.handle(request(stream=True))
    assert response.stream is not None
    chunks = list(response.stream)
    counts = [output_tokens(json.loads(chunk.split(b"data: ", 1)[1])) for _, chunk in chunks]
    first = next(c for c in counts if c)
    return [delay for delay, _ in chunks], sum(counts) - first


def test_default_is_instant() -> None:
    delays, _ = stream_delays(Engine())
    assert set(delays) == {0.0}
    assert Engine().handle(request()).delay == 0.0


def test_stream_waits_ttft_then_tokens_per_second() -> None:
    delays, tokens = stream_delays(Engine(pacing=Pacing(ttft=0.4, tokens_per_second=50)))
    assert sum(delays) == pytest.approx(0.4 + tokens / 50)
    first = next(i for i, d in enumerate(delays) if d)
    assert delays[first] == pytest.approx(0.4)  # the first token arrives after the TTFT
    assert delays[0] == 0.0  # message_start is sent at once, as the API does


def test_non_streaming_waits_the_total() -> None:
    engine = Engine(pacing=Pacing(ttft=0.4, tokens_per_second=50))
    response = engine.handle(request())
    tokens = json.loads(response.body)["usage"]["output_tokens"]
    assert response.delay == pytest.approx(0.4 + tokens / 50)  # TTFT, then every token


def test_jitter_is_seeded_and_bounded() -> None:
    pacing = Pacing(ttft=0.2, tokens_per_second=100, jitter=0.1, seed=7)
    first, tokens = stream_delays(Engine(pacing=pacing))
    again, _ = stream_delays(Engine(pacing=pacing))
    assert first == again
    base = 0.2 + tokens / 100
    assert base * 0.9 <= sum(first) <= base * 1.1
    other, _ = stream_delays(
        Engine(pacing=Pacing(ttft=0.2, tokens_per_second=100, jitter=0.1, seed=8))
    )
    assert other != first


def test_time_scale_speeds_everything_up() -> None:
    slow, tokens = stream_delays(Engine(pacing=Pacing(ttft=1, tokens_per_second=10)))
    fast, _ = stream_delays(Engine(pacing=Pacing(ttft=1, tokens_per_second=10), time_scale=0.01))
    assert sum(fast) == pytest.approx(sum(slow) * 0.01)


def test_per_reply_timing_overrides_the_fake() -> None:
    engine = Engine(pacing=Pacing(ttft=5))
    engine.new_rule(times=1).reply("quick", timing=Pacing())
    assert engine.handle(request()).delay == 0.0
    assert engine.handle(request()).delay >= 5


def test_bad_pacing_is_refused() -> None:
    with pytest.raises(ValueError):
        Pacing(ttft=-1)
    with pytest.raises(ValueError):
        Pacing(tokens_per_second=0)
    with pytest.raises(ValueError):
        Engine(time_scale=-1)
