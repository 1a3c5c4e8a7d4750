"""The resilience verdict: a naive client is caught on each count, one test a finding; a
careful client and the official SDK (both generations, default retries) come out clean."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockspike import MockSpike
from mockspike.engine.verdict import VERDICT_RULES, Finding, request_key
from mockspike.model.clock import FakeClock

HEADERS = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}
BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Summarise the ticket."}],
}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The fake's clock; every `time.sleep` (the SDK's retry wait included) moves it."""
    fake_clock = FakeClock()
    monkeypatch.setattr(time, "sleep", fake_clock.sleep)
    return fake_clock


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[MockSpike]:
    with MockSpike(clock=clock) as made:
        yield made


def http(fake: MockSpike, timeout: float | None = None) -> httpx.Client:
    return httpx.Client(
        transport=fake.transport(), base_url="http://mockspike.test", timeout=timeout
    )


def naive(client: httpx.Client, body: dict[str, Any], attempts: int = 3) -> httpx.Response:
    """Retries everything at once, ignores retry-after and x-should-retry."""
    for _ in range(attempts):
        response = client.post("/v1/messages", json=body, headers=HEADERS)
        if response.status_code == 200:
            break
    return response


def careful(client: httpx.Client, body: dict[str, Any], attempts: int = 3) -> httpx.Response:
    """What the SDKs do: retry 408/409/429/5xx unless told not to, after retry-after or
    an exponential backoff."""
    for attempt in range(attempts):
        response = client.post("/v1/messages", json=body, headers=HEADERS)
        should = response.headers.get("x-should-retry")
        retryable = response.status_code in (408, 409, 429) or response.status_code >= 500
        if should == "false" or not (retryable or should == "true"):
            break
        wait = response.headers.get("retry-after-ms")
        time.sleep(float(wait) / 1000 if wait else 0.5 * 2**attempt)
    return response


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


# -- a naive client, caught on each count ---------------------------------------------------


def test_retry_storm(fake: MockSpike) -> None:
    fake.fail(500, times=2)
    with http(fake) as client:
        assert naive(client, BODY).status_code == 200
    findings = fake.verdict()
    assert rules(findings) == ["retry-storm", "retry-storm"]
    assert findings[0].entries == (1, 2) and findings[1].entries == (2, 3)
    assert "0.000 s after the 500 of #1" in findings[0].message


def test_ignored_retry_after(fake: MockSpike) -> None:
    fake.fail(429, retry_after=2)
    with http(fake) as client:
        naive(client, BODY)
    (finding,) = fake.verdict()
    assert finding.rule == "ignored-retry-after" and finding.severity == "error"
    assert "which asked for 2 s" in finding.message


def test_ignored_should_retry_false(fake: MockSpike) -> None:
    fake.fail(500, headers={"x-should-retry": "false"})
    with http(fake) as client:
        naive(client, BODY)
    assert rules(fake.verdict()) == ["ignored-should-retry"]


def test_retried_a_400(fake: MockSpike) -> None:
    fake.fail(400, message="messages: bad shape")
    with http(fake) as client:
        naive(client, BODY)
    (finding,) = fake.verdict()
    assert finding.rule == "retried-non-retryable"
    assert finding.entries == (1, 2)


def test_accepted_a_cut_stream(fake: MockSpike) -> None:
    fake.fault("break", after=4)
    stream = {**BODY, "stream": True}
    text = ""
    with (
        http(fake) as client,
        client.stream("POST", "/v1/messages", json=stream, headers=HEADERS) as response,
    ):
        try:
            for line in response.iter_lines():
                if line.startswith("data: ") and '"text_delta"' in line:
                    text += json.loads(line[6:])["delta"]["text"]
        except httpx.RemoteProtocolError:
            pass  # the naive client keeps what it got
    follow_up = {
        **BODY,
        "messages": [
            *BODY["messages"],
            {"role": "assistant", "content": text or "…"},
            {"role": "user", "content": "And then?"},
        ],
    }
    with http(fake) as client:
        client.post("/v1/messages", json=follow_up, headers=HEADERS)
    (finding,) = fake.verdict()
    assert finding.rule == "accepted-cut-stream" and finding.entries == (1, 2)
    assert fake.requests[0].reply is not None and fake.requests[0].reply.end == "cut"


def test_retrying_a_cut_stream_is_fine(fake: MockSpike) -> None:
    fake.fault("break", after=2)
    stream = {**BODY, "stream": True}
    with http(fake) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/v1/messages", json=stream, headers=HEADERS)
        time.sleep(1)
        assert client.post("/v1/messages", json=stream, headers=HEADERS).status_code == 200
    assert fake.verdict() == []


def test_waited_out_a_stall(fake: MockSpike) -> None:
    fake.fault("stall", seconds=30)
    with http(fake, timeout=None) as client:
        assert client.post("/v1/messages", json=BODY, headers=HEADERS).status_code == 200
    (finding,) = fake.verdict()
    assert finding.rule == "waited-out-stall" and finding.severity == "warning"


def test_a_read_timeout_shorter_than_the_stall_is_fine(fake: MockSpike) -> None:
    fake.fault("stall", seconds=30)
    with http(fake, timeout=5) as client, pytest.raises(httpx.ReadTimeout):
        client.post("/v1/messages", json=BODY, headers=HEADERS)
    assert fake.requests[0].reply is not None
    assert fake.requests[0].reply.client_left_after == pytest.approx(5)
    assert fake.verdict() == []


def test_gave_up_without_a_retry(fake: MockSpike) -> None:
    fake.fail(529)
    with http(fake) as client:
        client.post("/v1/messages", json=BODY, headers=HEADERS)
    (finding,) = fake.verdict()
    assert finding.rule == "gave-up"
    with pytest.raises(AssertionError, match=r"gave-up: the 529 of #1 is retryable"):
        fake.assert_resilient()
    fake.assert_resilient(ignore=("gave-up",))
    with pytest.raises(ValueError, match="unknown verdict rule"):
        fake.assert_resilient(ignore=("gave_up",))


def test_every_rule_has_a_test() -> None:
    from pathlib import Path

    source = Path(__file__).read_text(encoding="utf-8")
    assert all(f'"{name}"' in source for name in VERDICT_RULES)


# -- clean clients ----------------------------------------------------------------------------


def test_a_careful_client_is_clean(fake: MockSpike) -> None:
    fake.fail(429, retry_after=3)
    fake.fail(529)
    fake.reply("Done.")
    fake.fail(400)
    with http(fake) as client:
        assert careful(client, BODY).status_code == 200
        assert careful(client, {**BODY, "max_tokens": 32}).status_code == 400
    assert [e.status for e in fake.requests] == [429, 529, 200, 400]
    fake.assert_resilient()


def test_the_same_request_ignores_headers_and_key_order() -> None:
    fake = MockSpike()
    with http(fake) as client:
        client.post("/v1/messages", json=BODY, headers=HEADERS)
        reordered = json.dumps(dict(reversed(list(BODY.items()))))
        client.post("/v1/messages", content=reordered, headers={**HEADERS, "x-trace": "2"})
    first, second = fake.requests
    assert request_key(first) == request_key(second)


@pytest.mark.sdk
def test_the_sdk_with_default_retries_is_clean(fake: MockSpike) -> None:
    fake.fail(429, times=2)
    fake.reply("One.")
    fake.fail(529)
    fake.reply("Two.")
    fake.fail(500, headers={"x-should-retry": "false"})
    fake.fail(400)
    client = fake.anthropic_client()
    assert client.messages.create(**BODY).content  # 429, 429, 200
    assert client.messages.create(**{**BODY, "max_tokens": 60}).content  # 529, 200
    import anthropic

    with pytest.raises(anthropic.InternalServerError):
        client.messages.create(**{**BODY, "max_tokens": 50})
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(**{**BODY, "max_tokens": 40})
    assert [e.status for e in fake.requests] == [429, 429, 200, 529, 200, 500, 400]
    fake.assert_resilient()


@pytest.mark.sdk
def test_the_sdk_times_out_a_stall_and_drops_are_retried(fake: MockSpike) -> None:
    fake.fault("stall", seconds=60)
    fake.fault("drop")
    client = fake.anthropic_client(timeout=5.0)
    assert client.messages.create(**BODY).content
    assert [e.status for e in fake.requests] == [200, 0, 200]
    fake.assert_resilient()


@pytest.mark.sdk
def test_the_sdk_does_not_take_a_cut_stream_for_an_answer(fake: MockSpike) -> None:
    import importlib

    import anthropic

    from mockspike.adapters.transports import sdk_http_library

    library = importlib.import_module(sdk_http_library())
    fake.fault("break", after=3)
    client = fake.anthropic_client()
    # anthropic < 2.17 lets its HTTP library's error through; 2.17 wraps it in its own
    # APIConnectionError (the HTTP library's error as the cause)
    with (
        pytest.raises((library.RemoteProtocolError, anthropic.APIConnectionError)) as raised,
        client.messages.stream(**BODY) as stream,
    ):
        stream.get_final_message()
    cut = raised.value
    if isinstance(cut, anthropic.APIConnectionError):
        assert not isinstance(cut, anthropic.APITimeoutError), cut
        cut = cut.__cause__
    assert isinstance(cut, library.RemoteProtocolError), repr(cut)
    assert fake.requests[0].reply is not None and fake.requests[0].reply.end == "cut"
    assert fake.verdict() == []
