"""The schema check's fast paths say what the schema says: tagged unions are dispatched on
their tag, and a rejected body's message names the same first error as a full jsonschema
walk would, however long the body."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mockspike.contract.catalog import load_profile
from mockspike.contract.compiled import compile_schema, tagged_union
from mockspike.contract.errors import ApiError
from mockspike.contract.validate import _locate, check_message_request, message_schema

BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}] * 300}],
}


def _unions(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [u for item in node for u in _unions(item)]
    if not isinstance(node, dict):
        return []
    own = [node] if "x-union" in node else []
    return own + [u for value in node.values() for u in _unions(value)]


def test_every_tagged_union_of_the_schema_is_dispatched_on_its_tag() -> None:
    unions = _unions(message_schema())
    assert unions
    for union in unions:
        found = tagged_union(union["allOf"])
        assert found is not None, union
        tag, branches = found
        assert tag == union["x-union"]
        assert set(branches) == set(union["properties"][tag]["enum"])


def test_an_allof_that_is_not_a_tagged_union_keeps_its_meaning() -> None:
    schema = {"allOf": [{"type": "integer"}, {"minimum": 5}]}
    check = compile_schema(schema)
    assert check(7) == 7
    for bad in (4, "x"):
        with pytest.raises(ValueError):
            check(bad)


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
def test_a_dispatched_union_accepts_what_the_schema_accepts(value: Any, accepted: bool) -> None:
    def branch(tag: str, kind: str) -> dict[str, Any]:
        return {
            "if": {"properties": {"kind": {"const": tag}}, "required": ["kind"]},
            "then": {"type": "object", "properties": {tag: {"type": kind}}},
        }

    schema = {"allOf": [branch("a", "integer"), branch("b", "string")]}
    assert tagged_union(schema["allOf"]) is not None
    assert Draft202012Validator(schema).is_valid(value) is accepted
    try:
        compile_schema(schema)(value)
    except ValueError:
        assert not accepted
    else:
        assert accepted


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
