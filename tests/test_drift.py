"""The request schema knows everything the installed SDK can send, and the fake accepts it.

When the SDK moves, these fail naming the field, block or tool type the schema lacks; run
`python -m tools.surface` to regenerate it (see docs/contract.md)."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import pytest
import typing_extensions as te

from mockspike import MockSpike
from mockspike.contract import betas
from mockspike.contract.validate import message_schema
from tests.sdk_surface import classes, example, typed_example
from tools import surface

pytestmark = pytest.mark.sdk

MODEL = "claude-opus-4-7"  # takes every effort level and adaptive thinking
BASE: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 2048,
    "messages": [{"role": "user", "content": "Hi"}],
}
SKIP_FIELDS = {"model", "max_tokens", "messages", "stream"}  # in every case already
#: Fields whose every value the fake refuses, and where that refusal is tested.
REFUSED_FIELDS = {
    "fallback_credit_token": "only a refusal mints one, and the fake mints none: "
    "tests/test_contract.py::test_a_fallback_credit_token_no_refusal_minted_is_refused",
}
ROOTS = surface.sdk_roots()
GA_MESSAGES = ROOTS["messages"][0]


def _schema_def(cls: Any) -> tuple[str, dict[str, Any] | None]:
    name = "message" if "role" in surface.fields(cls) else surface._def_name(cls)
    name = message_schema()["x-merged"].get(name, name)
    return name, message_schema()["$defs"].get(name)


def test_schema_has_every_top_level_field_the_sdk_sends() -> None:
    schema = message_schema()
    missing = [
        f"{root.__module__}.{root.__qualname__}: `{name}`"
        for kind, roots in ROOTS.items()
        for root in roots
        for name in surface.fields(root)
        if name not in surface.HEADER_FIELDS
        and name not in (schema["properties"] if kind == "messages" else schema["x-count-tokens"])
    ]
    assert not missing, "the schema lacks top-level fields:\n" + "\n".join(missing)


def test_schema_has_every_block_tool_and_field_the_sdk_types() -> None:
    problems = []
    for kind, roots in ROOTS.items():
        for cls, path in classes(roots).items():
            name, schema = _schema_def(cls)
            where = f"{cls.__qualname__} (at {kind} {path})"
            if schema is None:
                problems.append(f"{where}: no definition `{name}`")
                continue
            if schema.get("additionalProperties") is not False:
                continue  # free-form (a tool's input_schema)
            props = schema["properties"]
            problems += [f"{where}: field `{f}`" for f in surface.fields(cls) if f not in props]
            tags, _ = surface.tag_values(cls)
            allowed = props.get("type", {}).get("enum", tags)
            problems += [f"{where}: type `{t}`" for t in tags if t not in allowed]
    assert not problems, "the schema lacks:\n" + "\n".join(sorted(set(problems)))


def test_every_beta_the_sdk_names_is_known() -> None:
    from anthropic.types.anthropic_beta_param import AnthropicBetaParam

    named = [
        value
        for member in typing.get_args(AnthropicBetaParam)
        if typing.get_origin(member) in (typing.Literal, te.Literal)
        for value in typing.get_args(member)
    ]
    assert sorted(set(named) - betas.known()) == []


# -- one valid request per field, tool type and block type, sent through the SDK ------------


def _is_beta(cls: Any) -> bool:
    return ".beta." in cls.__module__


def _field_cases() -> Iterator[Any]:
    seen = set()
    for root in ROOTS["messages"]:
        for name, (tp, _) in surface.fields(root).items():
            if name in SKIP_FIELDS or name in REFUSED_FIELDS or name in surface.HEADER_FIELDS:
                continue
            if name in seen:
                continue
            seen.add(name)
            body = {**BASE, name: example(tp)}
            if name == "tool_choice":
                body["tools"] = [{"name": "x", "input_schema": {"type": "object"}}]
            beta = name not in surface.fields(GA_MESSAGES)
            yield pytest.param(body, beta, id=f"field-{name}")


def _slot_classes(path: str) -> list[Any]:
    found = []
    for root in ROOTS["messages"]:
        for cls, where in classes([root]).items():
            if where == path and cls not in found:
                found.append(cls)
    return found


def _tool_cases() -> Iterator[Any]:
    for cls in _slot_classes("tools"):
        tool = typed_example(cls)
        body = {**BASE, "tools": [tool]}
        if tool.get("type") == "mcp_toolset":
            body["mcp_servers"] = [{"type": "url", "name": "x", "url": "https://mcp.example"}]
        yield pytest.param(body, _is_beta(cls), id=f"tool-{cls.__qualname__}")


def _block_cases() -> Iterator[Any]:
    for cls in _slot_classes("messages.content"):
        block = typed_example(cls)
        kind = block.get("type")
        if kind == "tool_use":
            turns = [
                {"role": "assistant", "content": [block]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block["id"]}]},
            ]
        elif kind == "tool_result":
            use = {"type": "tool_use", "id": block["tool_use_id"], "name": "x", "input": {}}
            turns = [{"role": "assistant", "content": [use]}, {"role": "user", "content": [block]}]
        elif kind in ("thinking", "redacted_thinking"):
            turns = [
                {"role": "assistant", "content": [block, {"type": "text", "text": "Hello"}]},
                {"role": "user", "content": "Go on"},
            ]
        else:
            turns = [{"role": "user", "content": [block, {"type": "text", "text": "Go on"}]}]
        body = {**BASE, "messages": [{"role": "user", "content": "Hi"}, *turns]}
        yield pytest.param(body, _is_beta(cls), id=f"block-{cls.__qualname__}")


def _send(client: Any, body: dict[str, Any], beta: bool) -> Any:
    if not beta:
        return client.messages.create(**body)
    needs = [values[0] for field, values in betas.gated_fields().items() if field in body] or [
        "files-api-2025-04-14"
    ]
    return client.beta.messages.create(betas=needs, **body)


@pytest.fixture(scope="module")
def served() -> Iterator[Any]:
    """A real uvicorn server: the top-level fields go over a socket."""
    import anthropic

    fake = MockSpike("anthropic")
    with fake.serve() as url:
        yield anthropic.Anthropic(base_url=url, api_key="sk-test", max_retries=0)


@pytest.fixture(scope="module")
def in_process() -> Any:
    return MockSpike("anthropic").anthropic_client(api_key="sk-test", max_retries=0)


@pytest.mark.parametrize(("body", "beta"), list(_field_cases()))
def test_every_top_level_field_is_accepted(served: Any, body: dict[str, Any], beta: bool) -> None:
    assert _send(served, body, beta).type == "message"


@pytest.mark.parametrize(("body", "beta"), [*_tool_cases(), *_block_cases()])
def test_every_tool_and_block_type_is_accepted(
    in_process: Any, body: dict[str, Any], beta: bool
) -> None:
    assert _send(in_process, body, beta).type == "message"
