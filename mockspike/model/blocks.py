"""What a reply may say: every content block kind the API sends, every stop reason, and the
response fields that go with them, checked when a reply is scripted (not when it is served).

The block shapes are data: `ResponseBlock` and the `Reply*` schemas of
`contract/schemas/responses.json` (the same schemas `/openapi.json` publishes), written from
the official SDK's response types (`anthropic/types/*_block.py`, `anthropic/types/beta/`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING, Any

from mockspike._ids import random_id

if TYPE_CHECKING:
    import jsonschema

Block = dict[str, Any]

#: Every `stop_reason` the API sends (SDK: `anthropic/types/stop_reason.py`).
STOP_REASONS = (
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
)

#: The categories of a refusal's `stop_details` (SDK: `refusal_stop_details.py`); None too.
REFUSAL_CATEGORIES = ("cyber", "bio", "frontier_llm", "reasoning_extraction", "general_harms")

#: Id prefixes of the blocks that carry an id, filled in when a script leaves it out.
_ID_PREFIXES = {
    "tool_use": "toolu_01",
    "server_tool_use": "srvtoolu_01",
    "mcp_tool_use": "mcptoolu_01",
}


@functools.cache
def _schemas() -> dict[str, Any]:
    text = resources.files("mockspike.contract").joinpath("schemas/responses.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


@functools.cache
def _validators() -> dict[str, jsonschema.Draft202012Validator]:
    """One validator per block kind, resolving `#/components/schemas/...` in the same file.
    (jsonschema is imported here, on first use: the plugin's import stays light.)"""
    import jsonschema

    schemas = _schemas()
    root = {"components": {"schemas": schemas}}
    out = {}
    for ref in schemas["ResponseBlock"]["oneOf"]:
        name = ref["$ref"].rsplit("/", 1)[1]
        kind = schemas[name]["properties"]["type"]["const"]
        out[kind] = jsonschema.Draft202012Validator({**root, "$ref": ref["$ref"]})
    return out


def kinds() -> tuple[str, ...]:
    """Every block kind a reply may carry."""
    return tuple(_validators())


def complete(block: Any, where: str = "content") -> Block:
    """Check a scripted block against its kind's shape and fill what the API always sends
    (ids, a thinking signature, `is_error`); a `ValueError` says where and what is wrong."""
    if not isinstance(block, dict):
        raise ValueError(f"{where}: a block is an object with a 'type', not {block!r}")
    kind = block.get("type")
    validators = _validators()
    if kind not in validators:
        raise ValueError(
            f"{where}: a reply block's type is one of {', '.join(validators)}; got {kind!r}"
        )
    out = dict(block)
    if kind in _ID_PREFIXES:
        out.setdefault("id", random_id(_ID_PREFIXES[kind], 22))
    elif kind == "thinking":
        out.setdefault("signature", "mockspike-signature")
    elif kind == "mcp_tool_result":
        out.setdefault("is_error", False)
    from jsonschema.exceptions import best_match

    error = best_match(validators[kind].iter_errors(out))
    if error is not None:
        at = "".join(f".{p}" for p in error.absolute_path)
        raise ValueError(f"{where}{at} ({kind}): {error.message}")
    return out


def check_stop_reason(stop_reason: Any) -> str:
    if stop_reason not in STOP_REASONS:
        raise ValueError(
            f"stop_reason is one the API sends ({', '.join(STOP_REASONS)}), not {stop_reason!r}"
        )
    return str(stop_reason)


def stop_details(stop_reason: str, given: dict[str, Any] | None) -> dict[str, Any] | None:
    """`stop_details` as the API sends it: null, except a refusal's
    `{"type": "refusal", "category", "explanation"}` (category one of `REFUSAL_CATEGORIES` or
    null)."""
    if stop_reason != "refusal":
        if given is not None:
            raise ValueError("stop_details goes with stop_reason='refusal' only")
        return None
    details = {"type": "refusal", "category": None, "explanation": None, **(given or {})}
    if set(details) != {"type", "category", "explanation"} or details["type"] != "refusal":
        raise ValueError(f"stop_details is {{'category': ..., 'explanation': ...}}, not {given!r}")
    if details["category"] not in (*REFUSAL_CATEGORIES, None):
        raise ValueError(
            f"stop_details.category is one of {', '.join(REFUSAL_CATEGORIES)} or None, "
            f"not {details['category']!r}"
        )
    if not isinstance(details["explanation"], (str, type(None))):
        raise ValueError("stop_details.explanation is a string or None")
    return details


def uses_a_container(content: list[Block]) -> bool:
    """Code execution runs in a container, and the reply says which (`container`)."""
    return any(
        b["type"].endswith("code_execution_tool_result")
        or (b["type"] == "server_tool_use" and b["name"].endswith("code_execution"))
        for b in content
    )


def server_tool_requests(content: list[Block]) -> dict[str, int]:
    """`usage.server_tool_use` for a turn: its web searches and fetches, in the API's key
    order (recorded traffic: `{"web_search_requests": 2, "web_fetch_requests": 0}`)."""
    names = [b["name"] for b in content if b["type"] == "server_tool_use"]
    return {
        "web_search_requests": names.count("web_search"),
        "web_fetch_requests": names.count("web_fetch"),
    }


def request_blocks(body: dict[str, Any]) -> Iterator[Block]:
    """Every content block of a request's messages, in order, with the blocks inside each
    `tool_result` right after it (what a document or file source can be: the citing
    responder and the Files lookup read the same blocks). Tolerates any shape."""
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for block in content:
            if not isinstance(block, dict):
                continue
            yield block
            if block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                yield from (b for b in block["content"] if isinstance(b, dict))
