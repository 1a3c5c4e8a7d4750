"""The answer verbs are one table (`script/answers.py`): Python (a rule's method, a queued
one-shot), script files and the admin API all make their answers through it, so a verb
added there (as `refuse` was) is served by every door at once."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

from mockspike import Engine, MockSpike
from mockspike.script.answers import ANSWERS
from mockspike.script.files import SpecError
from tests.unit.conftest import BODY, body, post

CYBER = {"category": "cyber", "explanation": "declined"}


def served(engine: Engine) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(body(engine.handle(post(body=BODY))))
    return answer


@pytest.mark.parametrize("verb", list(ANSWERS))
def test_every_verb_is_a_method_of_a_rule_and_of_the_fake(verb: str) -> None:
    fake = MockSpike()
    assert inspect.signature(getattr(fake.on(), verb)).parameters  # a rule's own method
    assert getattr(fake, verb).__doc__  # a queued one-shot, documented
    assert fake.rules == [fake.rules[0]]  # asking for a method adds no rule


def test_a_refusal_by_every_door_is_the_same_answer() -> None:
    by_rule, by_name, by_file, by_queue = Engine(), MockSpike(), MockSpike(), MockSpike()
    by_rule.new_rule().refuse(**CYBER)
    by_name.answer("refuse", **CYBER)
    by_file.load_script({"respond": {"refuse": CYBER}})
    by_queue.queue({"refuse": CYBER})
    answers = [served(by_rule)] + [served(f.engine) for f in (by_name, by_file, by_queue)]
    for answer in answers:
        assert answer["stop_reason"] == "refusal"
        assert answer["stop_details"] == {"type": "refusal", **CYBER}
        assert answer["content"] == []


def test_a_refusal_may_keep_what_was_written_before_it() -> None:
    fake = MockSpike()
    rule = fake.refuse("I can help with part of that", times=2)
    assert rule.describe() == "rule #1 refuse(times=2)"  # the journal says what was written
    answer = served(fake.engine)
    assert answer["content"][0]["text"] == "I can help with part of that"
    assert answer["stop_details"] == {"type": "refusal", "category": None, "explanation": None}


@pytest.mark.parametrize(
    ("script", "error", "message"),
    [
        (lambda f: f.refuse(category="weapons"), ValueError, "category is one of cyber, bio"),
        (lambda f: f.refuse(categry="cyber"), TypeError, "did you mean 'category'?"),
        (lambda f: f.answer("refuze"), TypeError, "unknown answer 'refuze'; did you mean"),
        (lambda f: f.on().answer("reply_tool_use"), ValueError, "'name' is required"),
        (lambda f: f.on().fail(429, "rate_limit_error", "slow", {}, 1, 2), TypeError, "takes"),
    ],
)
def test_a_bad_answer_is_refused_with_the_fix(script: Any, error: type, message: str) -> None:
    fake = MockSpike()
    with pytest.raises(error, match=message.replace("?", r"\?")):
        script(fake)


def test_a_script_file_names_the_verbs_of_the_table() -> None:
    with pytest.raises(SpecError, match=r"one of reply, .*refuse, fail, fault"):
        MockSpike().load_script({"respond": {"refusal": {}}})


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'replay'"):
        MockSpike().replay  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'cals'"):
        MockSpike().on().cals  # type: ignore[attr-defined]  # noqa: B018


def test_a_near_miss_of_a_verb_names_the_verb() -> None:
    fake = MockSpike()
    with pytest.raises(AttributeError, match="did you mean 'refuse'"):
        fake.refuze()  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="did you mean 'refuse'"):
        fake.on(text="x").refuze()  # type: ignore[attr-defined]
    with pytest.raises(AttributeError) as missing:
        fake.nothing_like_a_verb  # type: ignore[attr-defined]  # noqa: B018
    assert "did you mean" not in str(missing.value)
