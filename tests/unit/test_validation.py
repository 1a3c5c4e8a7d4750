"""The schema check's fast paths say what the schema says: the compiled check reads tagged
unions (`allOf` of `if`/`then` on a tag) as jsonschema does, and a rejected body's message
names the same first error as a full jsonschema walk would, however long the body."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mockspike.contract.catalog import load_profile
from mockspike.contract.compiled import _chained, compile_schema
from mockspike.contract.validate import (
    _locate,
    _validator,
    check_message_request,
    message_schema,
)
from mockspike.model.errors import ApiError

BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}] * 300}],
}


def test_a_plain_allof_keeps_its_meaning() -> None:
    schema = {"allOf": [{"type": "integer"}, {"minimum": 5}]}
    check = compile_schema(schema)
    assert check(7)
    assert not check(4) and not check("x")


@pytest.mark.parametrize(
    "value, accepted",
    [
        ({"kind": "a", "a": 1}, True),
        ({"kind": "a", "a": "x"}, False),
        ({"kind": "b", "b": "x"}, True),
        ({"kind": "b", "b": 1}, False),
        ({"kind": "c"}, True),  # no branch's `if` holds: the allOf asks nothing more
        ({"a": "x"}, True),  # no tag: no `if` holds either
        ("text", False),  # not an object: every `if` holds, so every `then` applies
    ],
)
def test_a_tagged_union_accepts_what_the_schema_accepts(value: Any, accepted: bool) -> None:
    def branch(tag: str, kind: str) -> dict[str, Any]:
        return {
            "if": {"properties": {"kind": {"const": tag}}, "required": ["kind"]},
            "then": {"type": "object", "properties": {tag: {"type": kind}}},
        }

    schema = {"allOf": [branch("a", "integer"), branch("b", "string")]}
    assert Draft202012Validator(schema).is_valid(value) is accepted
    assert compile_schema(schema)(value) is accepted


@pytest.mark.parametrize(
    "value, accepted",
    [
        ({"type": "custom", "n": 1}, True),
        ({"n": 1}, True),  # no tag: the branch whose `if` does not require it applies
        ({"n": "x"}, False),
        ({"type": "web", "n": "x"}, True),  # the other branch only
        ({"type": "web", "w": 1}, False),
        ([], False),  # not an object: every `then` applies
    ],
)
def test_a_branch_whose_if_does_not_require_the_tag_also_checks_untagged_objects(
    value: Any, accepted: bool
) -> None:
    schema = {
        "allOf": [
            {
                "if": {"properties": {"type": {"const": "custom"}}},
                "then": {"type": "object", "properties": {"n": {"type": "integer"}}},
            },
            {
                "if": {"properties": {"type": {"const": "web"}}, "required": ["type"]},
                "then": {"type": "object", "properties": {"w": {"type": "string"}}},
            },
        ]
    }
    assert Draft202012Validator(schema).is_valid(value) is accepted
    assert compile_schema(schema)(value) is accepted


def _union(*branches: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A tagged union as the contract schema writes one (`x-union` on `kind`)."""
    return {
        "x-union": "kind",
        "allOf": [
            {"if": {"properties": {"kind": {"const": tag}}, "required": ["kind"]}, "then": then}
            for tag, then in branches
        ],
    }


@pytest.mark.parametrize(
    "value",
    [
        {"kind": "a", "a": 1},
        {"kind": "a", "a": "x"},
        {"kind": "b", "b": "x"},
        {"kind": "b", "b": 1},
        {"kind": "c", "a": "x"},
        {"a": "x"},
        "abcd",  # not an object: every branch applies, and the second refuses it
        "ab",
        7,
    ],
)
def test_a_tagged_union_checked_as_a_chain_accepts_what_the_allof_accepts(value: Any) -> None:
    schema = _union(
        ("a", {"properties": {"a": {"type": "integer"}}, "minLength": 2}),
        ("b", {"properties": {"b": {"type": "string"}}, "maxLength": 3}),
    )
    assert "else" in str(_chained(schema))  # the fast form is the one checked
    assert compile_schema(schema)(value) is Draft202012Validator(schema).is_valid(value)


def test_a_union_whose_branches_do_not_each_require_a_distinct_tag_is_kept_as_written() -> None:
    twice = _union(("a", {"type": "object"}), ("a", {"required": ["x"]}))
    assert _chained(twice) == twice
    loose = _union(("a", {"type": "object"}))
    del loose["allOf"][0]["if"]["required"]
    assert _chained(loose) == loose


def _full_walk_message(body: dict[str, Any]) -> str:
    """The message a plain jsonschema walk over every error gives."""
    errors = Draft202012Validator(message_schema()).iter_errors(body)
    return min((_locate(e, message_schema()) for e in errors), key=lambda found: found[0])[1]


@pytest.mark.parametrize(
    "bad_block",
    [
        {"type": "text", "text": 5},
        {"type": "text"},
        {"type": "audio", "data": "x"},
        {"text": "no tag"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": "A"}},
        "not a block",
    ],
)
@pytest.mark.parametrize("position", [0, 150, 299])
def test_a_bad_block_in_a_long_list_gets_the_full_walks_message(
    bad_block: Any, position: int
) -> None:
    body = copy.deepcopy(BODY)
    body["messages"][0]["content"][position] = bad_block
    body["messages"].append({"role": "assistant", "content": [{"type": "text", "text": 1}]})
    with pytest.raises(ApiError) as raised:
        check_message_request(body, load_profile("bytespike"))
    assert raised.value.message == _full_walk_message(body)
    assert f"messages.0.content.{position}" in raised.value.message


def test_a_bad_block_at_the_end_of_a_huge_body_is_explained_without_walking_every_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cost of a rejection stays one compiled pass per level (the body-size limit holds
    about a million blocks): jsonschema descends into the failing item only, as many times
    for 200,000 blocks as for 10 (64 today: the union's branches and the item's fields)."""
    body = {
        **BODY,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "a"}] * 200_000}],
    }
    body["messages"][0]["content"] = [*body["messages"][0]["content"], {"type": "text", "text": 5}]
    validator_class = type(_validator("messages"))
    descents = 0
    descend = validator_class.descend

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal descents
        descents += 1
        return descend(self, *args, **kwargs)

    monkeypatch.setattr(validator_class, "descend", counting)
    with pytest.raises(ApiError) as raised:
        check_message_request(body, load_profile("bytespike"))
    assert raised.value.message.startswith("messages.0.content.200000.text.text:")
    assert 0 < descents < 100
