"""Scenarios: rules that answer only in a named state and move it, the same from Python,
script files and the admin API, atomic with the rule's use, and journaled."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockspike import MockSpike
from mockspike.script.files import SpecError

from .conftest import BODY, body, error, post

REFUND: dict[str, Any] = {
    "rules": [
        {
            "name": "ask",
            "scenario": "refund",
            "state": "started",
            "next_state": "looking_up",
            "match": {"text": "refund", "tool_result": False},
            "respond": {"reply_tool_use": {"name": "lookup", "input": {"order": "42"}}},
        },
        {
            "name": "asked again",
            "scenario": "refund",
            "state": "looking_up",
            "match": {"text": "refund", "tool_result": False},
            "respond": {"reply": {"text": "Still looking order 42 up."}},
        },
        {
            "name": "answer",
            "scenario": "refund",
            "state": "looking_up",
            "next_state": "refunded",
            "match": {"tool_result": True},
            "respond": {"reply": {"text": "Order 42 is refunded."}},
        },
    ]
}
TOOLS = [{"name": "lookup", "input_schema": {"type": "object"}}]
ASK = [{"role": "user", "content": "Please refund order 42"}]


def send(fake: MockSpike, messages: list[dict[str, Any]]) -> dict[str, Any]:
    response = fake.engine.handle(post(body={**BODY, "messages": messages, "tools": TOOLS}))
    assert response.status == 200, body(response)
    message: dict[str, Any] = json.loads(body(response))
    return message


def run_refund(fake: MockSpike) -> list[str]:
    """Ask, ask again while the tool runs, then send the tool's result: three answers."""
    call = send(fake, ASK)["content"][-1]
    retry = send(fake, ASK)["content"][0]["text"]
    result = {"type": "tool_result", "tool_use_id": call["id"], "content": "paid"}
    turns = [*ASK, {"role": "assistant", "content": [call]}, {"role": "user", "content": [result]}]
    final = send(fake, turns)["content"][0]["text"]
    return [call["name"], retry, final]


def test_a_three_step_scenario_from_a_script_file() -> None:
    fake = MockSpike(strict=True)
    fake.load_script(REFUND)
    assert fake.scenarios == {"refund": "started"}
    assert run_refund(fake) == ["lookup", "Still looking order 42 up.", "Order 42 is refunded."]
    assert fake.scenarios == {"refund": "refunded"}
    assert [e.scenario for e in fake.requests] == [
        {"name": "refund", "state": "started", "next_state": "looking_up"},
        {"name": "refund", "state": "looking_up", "next_state": "looking_up"},
        {"name": "refund", "state": "looking_up", "next_state": "refunded"},
    ]
    assert fake.requests.last.to_json()["scenario"]["next_state"] == "refunded"


def test_no_rule_in_the_state_is_a_strict_miss_that_says_so() -> None:
    fake = MockSpike(strict=True)
    fake.load_script(REFUND)
    fake.set_scenario("refund", "refunded")
    response = fake.engine.handle(post(body={**BODY, "messages": ASK, "tools": TOOLS}))
    assert response.status == 400
    assert "scenario 'refund' was not in state 'started'" in error(response)["message"]


def test_python_rules_share_the_semantics_and_the_states_can_be_set_and_reset() -> None:
    fake = MockSpike()
    fake.on(scenario="s", state="started", next_state="two").reply("one")
    fake.on(scenario="s", state="two").reply("two")
    assert [send(fake, ASK)["content"][0]["text"] for _ in range(3)] == ["one", "two", "two"]
    fake.reset_scenarios()
    assert fake.scenarios == {"s": "started"}
    assert send(fake, ASK)["content"][0]["text"] == "one"
    fake.set_scenario("s", "started")
    assert send(fake, ASK)["content"][0]["text"] == "one"
    fake.reset()
    assert fake.scenarios == {}


def test_a_rule_without_a_state_answers_in_any_and_records_what_it_saw() -> None:
    fake = MockSpike()
    fake.on(scenario="s", next_state="moved").reply("any")
    send(fake, ASK)
    send(fake, ASK)
    assert [e.scenario for e in fake.requests] == [
        {"name": "s", "state": "started", "next_state": "moved"},
        {"name": "s", "state": "moved", "next_state": "moved"},
    ]


def test_times_and_scenarios_together() -> None:
    fake = MockSpike()
    fake.on(scenario="s", state="started", times=1).reply("once")
    assert send(fake, ASK)["content"][0]["text"] == "once"
    assert send(fake, ASK)["content"][0]["text"] != "once"  # the synthetic default


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"state": "x"}, "'scenario' is a dependency of 'state'"),
        ({"scenario": "", "state": "x"}, "scenario"),
        ({"scenario": 5}, "scenario must be a string"),
        ({"scenario": "s", "nxt_state": "b"}, "did you mean 'next_state'?"),
    ],
)
def test_scenario_fields_are_checked_when_loaded(rule: dict[str, Any], problem: str) -> None:
    with pytest.raises((SpecError, TypeError)) as refused:
        MockSpike().load_script({"rules": [{**rule, "respond": {"reply": {"text": "x"}}}]})
    assert problem in str(refused.value)


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"state": "x"}, "state and next_state need a scenario="),
        ({"scenario": 3}, "scenario must be a non-empty string, not 3"),
        ({"scenario": "s", "next_state": ""}, "next_state must be a non-empty string"),
    ],
)
def test_python_scenario_arguments_are_checked(given: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        MockSpike().on(**given)
