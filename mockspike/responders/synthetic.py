"""The synthetic default: a plausible, deterministic reply when nothing else answers.

Seeded by the request (its canonical JSON, without `stream`), so the same request always gets
the same reply, streamed or not. It honours `max_tokens` (stops with `max_tokens`),
`stop_sequences` (stops at the first one), forced tools (a `tool_use` whose input fits the
tool's `input_schema`) and extended thinking (a `thinking` block first).
"""

from __future__ import annotations

import hashlib
import math
import random
from typing import Any

import orjson

from .. import _json
from .._ids import from_bytes
from ..core.outcomes import Reply
from ..gateway.accounting import text_tokens

_PROSE = (
    "the request looks clear and the answer is short . this reply comes from mockspike , a "
    "deterministic fake of the messages endpoint . it reads your prompt , counts tokens , and "
    "writes plausible text so your client code can parse , stream and route it . nothing here "
    "costs credits or leaves this machine . routine classification , extraction and routing "
    "tasks usually get a brief answer like this one ."
)
_WORDS = tuple(_PROSE.split(" "))
#: Each word as it reads after its predecessor (capitalised after a full stop), and the
#: room it takes with its space: the prose is read off these, not built word by word.
_CASED = tuple(w.capitalize() if _WORDS[k - 1] == "." else w for k, w in enumerate(_WORDS))
_ROOM = tuple(len(w) + 1 for w in _WORDS)
_MAX_DEPTH = 8


def request_seed(body: dict[str, Any]) -> bytes:
    """A stable digest of the request, ignoring `stream` so both forms answer alike."""
    canonical = {k: v for k, v in body.items() if k != "stream"}
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).digest()


def synthetic_reply(body: dict[str, Any], seed: bytes | None = None) -> Reply:
    """The reply for `body` (`seed`: its `request_seed`, if already computed)."""
    rng = random.Random(seed or request_seed(body))
    budget = int(body["max_tokens"])
    content: list[dict[str, Any]] = []
    used = 0
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "enabled":
        thought = _prose(rng, min(rng.randint(20, 60), thinking["budget_tokens"]))
        content.append({"type": "thinking", "thinking": thought, "signature": _signature(rng)})
        used += text_tokens(thought)

    choice = body.get("tool_choice") or {}
    tools = body.get("tools") or []
    if choice.get("type") in ("any", "tool") and tools:
        tool = next((t for t in tools if t["name"] == choice.get("name")), None) or rng.choice(
            tools
        )
        tool_input = example_for(tool["input_schema"], rng)
        content.append(
            {"type": "tool_use", "id": _tool_id(rng), "name": tool["name"], "input": tool_input}
        )
        used += text_tokens(tool["name"]) + text_tokens(_json.dumps(tool_input).decode())
        stop = "max_tokens" if used > budget else "tool_use"
        return Reply(content=content, stop_reason=stop, output_tokens=min(used, budget))

    room = budget - used
    target = rng.randint(12, 48)
    stops = body.get("stop_sequences") or []
    stop_reason, stop_sequence = "end_turn", None
    if room < target:
        target, stop_reason = max(room, 0), "max_tokens"
    elif stops:
        target, stop_reason, stop_sequence = max(1, target // 2), "stop_sequence", stops[0]
    text = _prose(rng, target, exact=stop_reason == "max_tokens")
    if text:
        content.append({"type": "text", "text": text})
    return Reply(
        content=content,
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        output_tokens=used + text_tokens(text),
    )


def _prose(rng: random.Random, tokens: int, exact: bool = False) -> str:
    """Sentences of about `tokens` estimated tokens (four characters each). `exact` cuts
    at exactly that many, mid-word, as a `max_tokens` stop does; otherwise the text ends
    on a whole sentence."""
    if tokens <= 0:
        return ""
    limit = tokens * 4
    n = len(_WORDS)
    start = rng.randrange(n)
    count, size = 0, 0
    while size < limit:
        size += _ROOM[(start + count) % n]
        count += 1
    words = [_CASED[(start + k) % n] for k in range(count)]
    words[0] = _WORDS[start].capitalize()
    text = " ".join(words).replace(" .", ".").replace(" ,", ",")
    if exact:
        return text[:limit].rstrip()
    cut = text[:limit].rsplit(" ", 1)[0] if len(text) > limit else text
    return cut.rstrip(",.") + "."


def _tool_id(rng: random.Random) -> str:
    return "toolu_01" + from_bytes(rng.randbytes(22), 22)


def _signature(rng: random.Random) -> str:
    return "".join(
        rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        for _ in range(96)
    )


def example_for(schema: Any, rng: random.Random, root: Any = None, depth: int = 0) -> Any:
    """A value valid against a (common subset of) JSON Schema: types, enum/const, bounds,
    required properties, items, anyOf/oneOf/allOf and local `$ref`s. Patterns and formats
    are not generated."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    if "$ref" in schema and str(schema["$ref"]).startswith("#/"):
        target: Any = root
        for part in str(schema["$ref"])[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return example_for(target, rng, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return example_for(schema[key][0], rng, root, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(part)
        return example_for(merged, rng, root, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return {
            name: example_for(sub, rng, root, depth + 1)
            for name, sub in props.items()
            if name in required or rng.random() < 0.5
        }
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 1)
        count = min(count, int(schema.get("maxItems", count)))
        return [example_for(schema.get("items", {}), rng, root, depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if "exclusiveMinimum" in schema:
            low = math.floor(schema["exclusiveMinimum"]) + 1
        if "exclusiveMaximum" in schema:
            high = math.ceil(schema["exclusiveMaximum"]) - 1
        low = (
            math.ceil(low)
            if low is not None
            else (math.floor(high) - 100 if high is not None else 0)
        )
        high = math.floor(high) if high is not None else low + 100
        value = rng.randint(low, max(low, high))
        return value if kind == "integer" else float(value)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    word = rng.choice(["paris", "order-42", "late", "sample", "alpha", "delivery", "ticket"])
    low = int(schema.get("minLength", 0))
    high = int(schema.get("maxLength", max(low, len(word))))
    return (word * (low // len(word) + 1))[: max(low, min(len(word), high))]
