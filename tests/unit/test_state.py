"""The stores, in memory: what their Redis twins must also do."""

from __future__ import annotations

import pytest

from mockspike.gateway.keys import RateLimits
from mockspike.script.rules import Rule, Script
from mockspike.script.stored import StoredRules
from mockspike.state.stores import memory_stores, open_stores

LIMITS = RateLimits(
    requests_per_minute=5, input_tokens_per_minute=1000, output_tokens_per_minute=1000
).capacities
NEED = {"requests": 1, "input-tokens": 10, "output-tokens": 10}


def test_take_spends_exactly_the_capacity_then_refuses_with_the_wait() -> None:
    state = memory_stores({}).buckets
    taken = [state.take("k", LIMITS, NEED, 100.0) for _ in range(7)]
    assert [t.worst for t in taken] == [None] * 5 + ["requests", "requests"]
    assert taken[-1].wait == pytest.approx(12.0)  # one request a 12 s at 5 a minute
    assert state.take("k", LIMITS, NEED, 112.0).worst is None


def test_settle_gives_back_output_and_debits_only_existing_wallets() -> None:
    stores = memory_stores({"paid": 10.0})
    stores.buckets.take("paid", LIMITS, NEED, 0.0)
    buckets = stores.buckets.settle("paid", LIMITS, 6, 2.5, 0.0)
    assert buckets["output-tokens"].level == 996
    stores.buckets.settle("free", LIMITS, None, 2.5, 0.0)
    assert stores.wallets.all() == {"paid": 7.5}
    assert stores.wallets.credit("free", 1.0) == 1.0


def test_a_rule_with_times_is_claimed_that_many_times_in_sequence() -> None:
    script = Script(StoredRules(memory_stores({}).rules).claim)
    rule = script.add(Rule({}, times=3).reply("a").reply("b"))
    answers = [script.decide({"messages": []})[1] for _ in range(4)]
    assert [getattr(a, "content", None) for a in answers[:3]] == [
        [{"type": "text", "text": t}] for t in ("a", "b", "b")
    ]
    assert answers[3] is None
    assert rule.call_count == 3


def test_an_unknown_state_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="redis://HOST:PORT/DB"):
        open_stores("postgres://x", {})


def test_settings_refuse_a_state_that_is_not_redis() -> None:
    from mockspike.settings import Settings

    with pytest.raises(ValueError, match="redis://HOST:PORT/DB"):
        Settings.build(state="postgres://db/0")
    assert Settings.build(state="memory").state == "memory"


def test_a_wallet_short_of_the_estimate_takes_nothing() -> None:
    state = memory_stores({"paid": 1.0}).buckets
    assert state.take("paid", LIMITS, NEED, 0.0, estimate=2.0).broke == 1.0
    taken = [state.take("paid", LIMITS, NEED, 0.0, estimate=0.5) for _ in range(6)]
    assert [t.worst for t in taken] == [None] * 5 + ["requests"]
