"""The simulated gateway: keys, scopes, wallets, rate limits, prompt cache, credits —
seen by the real SDK. Time is a fake clock: no test sleeps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from mockspike import FakeClock, MockSpike


PROMPT = [{"role": "user", "content": "Classify this support ticket: My order is late."}]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CONFIG = {
    "keys": {
        "sk-alice": {"wallet": 10.0},
        "sk-broke": {"wallet": 0.0001},
        "sk-old": {"status": "revoked"},
        "sk-haiku-only": {"scopes": {"models": ["claude-haiku-4-5"]}},
        "sk-no-count": {"scopes": {"endpoints": ["messages"]}},
        "sk-office": {"ip_allowlist": ["10.0.0.0/8"]},
        "sk-slow": {
            "rate_limits": {
                "requests_per_minute": 1,
                "input_tokens_per_minute": 100000,
                "output_tokens_per_minute": 100000,
            }
        },
    }
}


def create(client: Any, **kwargs: Any) -> Any:
    args = {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": PROMPT, **kwargs}
    return client.messages.create(**args)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> MockSpike:
    return MockSpike(config=CONFIG, clock=clock)


@pytest.mark.sdk
def test_revoked_and_unknown_keys_are_authentication_errors(fake: MockSpike) -> None:
    for key in ("sk-old", "sk-who"):
        with pytest.raises(anthropic.AuthenticationError) as info:
            create(fake.anthropic_client(api_key=key, max_retries=0))
        assert info.value.body["error"] == {
            "type": "authentication_error",
            "message": "invalid x-api-key",
        }


@pytest.mark.sdk
def test_empty_wallet_is_402_billing_error(fake: MockSpike) -> None:
    with pytest.raises(anthropic.APIStatusError) as info:
        create(fake.anthropic_client(api_key="sk-broke", max_retries=0))
    assert info.value.status_code == 402
    assert info.value.body["error"]["type"] == "billing_error"
    assert info.value.body["error"]["message"].startswith("Wallet exhausted: this request needs")
    assert fake.wallet("sk-broke") == pytest.approx(0.0001)  # refused calls are not billed


@pytest.mark.sdk
def test_wallet_is_debited_and_can_be_topped_up(fake: MockSpike) -> None:
    client = fake.anthropic_client(api_key="sk-alice", max_retries=0)
    message = create(client)
    cost = (message.usage.input_tokens * 1.0 + message.usage.output_tokens * 5.0) / 1e6 * 100
    assert fake.wallet("sk-alice") == pytest.approx(10.0 - cost)
    assert fake.requests.last.credits == pytest.approx(cost)
    assert fake.top_up("sk-broke", 5) == pytest.approx(5.0001)
    assert create(fake.anthropic_client(api_key="sk-broke", max_retries=0)).content


@pytest.mark.sdk
def test_scope_and_ip_denials_are_permission_errors(fake: MockSpike) -> None:
    haiku_only = fake.anthropic_client(api_key="sk-haiku-only", max_retries=0)
    assert create(haiku_only).content
    with pytest.raises(anthropic.PermissionDeniedError) as info:
        create(haiku_only, model="claude-opus-4-7")
    assert info.value.body["error"]["message"] == (
        "This API key is not allowed to use model claude-opus-4-7."
    )
    with pytest.raises(anthropic.PermissionDeniedError):
        fake.anthropic_client(api_key="sk-no-count", max_retries=0).messages.count_tokens(
            model="claude-haiku-4-5", messages=PROMPT
        )
    with pytest.raises(anthropic.PermissionDeniedError) as info:
        create(fake.anthropic_client(api_key="sk-office", max_retries=0))
    assert "127.0.0.1" in info.value.body["error"]["message"]


@pytest.mark.sdk
def test_rate_limit_429_headers(fake: MockSpike) -> None:
    client = fake.anthropic_client(api_key="sk-slow", max_retries=0)
    first = client.messages.with_raw_response.create(
        model="claude-haiku-4-5", max_tokens=64, messages=PROMPT
    )
    assert first.headers["anthropic-ratelimit-requests-limit"] == "1"
    assert first.headers["anthropic-ratelimit-requests-remaining"] == "0"
    with pytest.raises(anthropic.RateLimitError) as info:
        create(client)
    headers = info.value.response.headers
    assert headers["retry-after"] == "60"
    assert RFC3339.match(headers["anthropic-ratelimit-requests-reset"])
    assert info.value.body["error"]["message"].startswith(
        "This request would exceed the rate limit for your organization of 1 requests per minute."
    )


@pytest.mark.sdk
def test_sdk_retry_waits_for_the_fake_clock_to_refill(
    fake: MockSpike, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import anthropic._base_client as base

    monkeypatch.setattr(
        base.time, "sleep", clock.sleep
    )  # the SDK's retry wait moves the fake clock
    client = fake.anthropic_client(api_key="sk-slow", max_retries=2)
    start = clock.now()
    assert create(client).content
    assert create(client).content  # 429, waits retry-after (60 s of fake time), succeeds
    assert [e.status for e in fake.requests] == [200, 429, 200]
    assert clock.now() - start == pytest.approx(60, abs=1)


@pytest.mark.sdk
def test_rate_limit_headers_on_every_success_without_config() -> None:
    response = (
        MockSpike()
        .anthropic_client()
        .messages.with_raw_response.create(model="claude-haiku-4-5", max_tokens=64, messages=PROMPT)
    )
    for name in ("requests", "tokens", "input-tokens", "output-tokens"):
        assert int(response.headers[f"anthropic-ratelimit-{name}-limit"]) > 0
        assert int(response.headers[f"anthropic-ratelimit-{name}-remaining"]) >= 0
        assert RFC3339.match(response.headers[f"anthropic-ratelimit-{name}-reset"])


def cached_system(tokens: int, ttl: str | None = None) -> list[dict[str, Any]]:
    control = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    return [{"type": "text", "text": "x" * (tokens * 4), "cache_control": control}]


@pytest.mark.sdk
def test_cache_write_then_read_above_the_minimum() -> None:
    fake = MockSpike()
    client = fake.anthropic_client()
    system = cached_system(5000)
    first = create(client, system=system)
    second = create(client, system=system)
    total = (
        fake.anthropic_client()
        .messages.count_tokens(model="claude-haiku-4-5", messages=PROMPT, system=system)
        .input_tokens
    )
    assert first.usage.cache_creation_input_tokens > 5000
    assert first.usage.cache_read_input_tokens == 0
    assert (
        first.usage.cache_creation.ephemeral_5m_input_tokens
        == first.usage.cache_creation_input_tokens
    )
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0
    for usage in (first.usage, second.usage):
        assert (
            usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens
        ) == total
    assert second.usage.input_tokens == first.usage.input_tokens


@pytest.mark.sdk
def test_below_the_minimum_nothing_is_cached() -> None:
    client = MockSpike().anthropic_client()
    system = cached_system(3000)
    for _ in range(2):
        usage = create(client, system=system).usage
        assert usage.cache_creation_input_tokens == 0
        assert usage.cache_read_input_tokens == 0
        assert usage.input_tokens > 3000


@pytest.mark.sdk
def test_cache_ttl_expiry_and_refresh(clock: FakeClock) -> None:
    fake = MockSpike(clock=clock)
    client = fake.anthropic_client()
    short, long = cached_system(5000), cached_system(6000, ttl="1h")
    create(client, system=short)
    create(client, system=long)
    assert {e["ttl"] for e in fake.cache} == {"5m", "1h"}
    clock.advance(240)
    assert create(client, system=short).usage.cache_read_input_tokens > 0  # refreshes the TTL
    clock.advance(240)  # 8 minutes since the write, 4 since the read
    assert create(client, system=short).usage.cache_read_input_tokens > 0
    clock.advance(301)
    again = create(client, system=short).usage
    assert again.cache_read_input_tokens == 0 and again.cache_creation_input_tokens > 0
    assert create(client, system=long).usage.cache_read_input_tokens > 0  # 1h still fresh
    fake.clear_cache()
    assert fake.cache == []


@pytest.mark.sdk
def test_cache_is_per_key_and_per_model() -> None:
    fake = MockSpike()
    system = cached_system(5000)
    create(fake.anthropic_client(api_key="a"), system=system)
    assert (
        create(fake.anthropic_client(api_key="b"), system=system).usage.cache_read_input_tokens == 0
    )
    assert (
        create(
            fake.anthropic_client(api_key="a"), system=system, model="claude-sonnet-4-6"
        ).usage.cache_read_input_tokens
        == 0
    )


@pytest.mark.sdk
def test_stream_reports_the_same_cache_usage() -> None:
    fake = MockSpike()
    client = fake.anthropic_client()
    system = cached_system(5000)
    create(client, system=system)
    with client.messages.stream(
        model="claude-haiku-4-5", max_tokens=64, messages=PROMPT, system=system
    ) as stream:
        usage = stream.get_final_message().usage
    assert usage.cache_read_input_tokens > 5000 and usage.cache_creation_input_tokens == 0


@pytest.mark.sdk
def test_usage_has_no_cache_fields_on_the_gateway_without_caching() -> None:
    message = create(MockSpike().anthropic_client())
    assert message.usage.cache_read_input_tokens is None  # the seed's usage: two fields


@pytest.mark.sdk
def test_cached_calls_cost_less(clock: FakeClock) -> None:
    fake = MockSpike(config={"keys": {"k": {"wallet": 100.0}}}, clock=clock)
    client = fake.anthropic_client(api_key="k")
    system = cached_system(5000)
    create(client, system=system)
    create(client, system=system)
    write, read = fake.requests[0].credits, fake.requests[1].credits
    assert read < write
    first = fake.requests[0]
    assert write == pytest.approx(
        (first.input_tokens + (5000 + 3) * 1.25 + 0) / 1e6 * 100 + first.output_tokens * 5 / 1e4,
        rel=0.01,
    )


@pytest.mark.sdk
def test_credits_header_follows_max_tokens(fake: MockSpike) -> None:
    client = fake.anthropic_client(api_key="sk-alice")
    small = client.messages.with_raw_response.create(
        model="claude-haiku-4-5", max_tokens=100, messages=PROMPT
    )
    big = client.messages.with_raw_response.create(
        model="claude-haiku-4-5", max_tokens=8000, messages=PROMPT
    )
    assert float(small.headers["x-bytespike-estimated-credits"]) == pytest.approx(
        (18 + 100 * 5) / 1e4
    )
    assert float(big.headers["x-bytespike-estimated-credits"]) == pytest.approx(
        (18 + 8000 * 5) / 1e4
    )


@pytest.fixture
def served(clock: FakeClock) -> Iterator[tuple[MockSpike, str]]:
    fake = MockSpike(config=CONFIG, clock=clock)
    with fake.serve() as url:
        yield fake, url


@pytest.mark.sdk
def test_admin_wallets_and_cache(served: tuple[MockSpike, str]) -> None:
    fake, url = served
    with httpx.Client(base_url=url) as admin:
        assert admin.get("/_mockspike/wallets").json()["wallets"]["sk-alice"] == 10.0
        topped = admin.post("/_mockspike/wallets/sk-broke", json={"top_up": 1})
        assert topped.json()["balance"] == pytest.approx(1.0001)
        admin.post("/_mockspike/wallets/sk-new", json={"balance": 2})
        assert fake.wallet("sk-new") == 2
        assert admin.get("/_mockspike/wallets/sk-none").status_code == 404
        assert admin.post("/_mockspike/wallets/sk-new", json={"give": 1}).status_code == 400
        client = anthropic.Anthropic(base_url=url, api_key="sk-alice", max_retries=0)
        create(client, system=cached_system(5000))
        (entry,) = admin.get("/_mockspike/cache").json()["entries"]
        assert entry["api_key"] == "<redacted>" and entry["ttl"] == "5m" and entry["tokens"] > 5000
        assert admin.delete(
            "/_mockspike/cache", headers={"content-type": "application/json"}
        ).json() == {"entries": []}


def test_bad_config_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="keys.k: unknown setting"):
        MockSpike(config={"keys": {"k": {"walet": 1}}})
    with pytest.raises(ValueError, match="rate_limits needs exactly"):
        MockSpike(config={"keys": {"k": {"rate_limits": {"requests_per_minute": 5}}}})
    with pytest.raises(ValueError, match="status is active or revoked"):
        MockSpike(config={"keys": {"k": {"status": "paused"}}})
