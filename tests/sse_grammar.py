"""A checker for the Messages stream grammar, shared by the streaming tests."""

from __future__ import annotations

import json
import re
from typing import Any

FRAME = re.compile(rb"event: ([a-z_]+)\ndata: ([^\n]*)\n\n")


def parse_frames(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    """Split a body into frames, asserting the exact framing and compact JSON."""
    frames: list[tuple[str, dict[str, Any]]] = []
    position = 0
    for match in FRAME.finditer(raw):
        assert match.start() == position, (
            f"stray bytes at {position}: {raw[position : match.start()]!r}"
        )
        name, data = match.group(1).decode(), match.group(2)
        payload = json.loads(data)
        compact = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        if name == "ping":  # the API frames the ping with a space: {"type": "ping"}
            compact = json.dumps(payload).encode()
        assert data == compact, f"data is not compact JSON: {data!r}"
        assert payload["type"] == name
        frames.append((name, payload))
        position = match.end()
    assert position == len(raw), f"trailing bytes: {raw[position:]!r}"
    return frames


def check_grammar(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Assert the event order; return the message the stream builds."""
    events = [e for e in events if e[0] != "ping"]
    assert events[0][0] == "message_start"
    message = events[0][1]["message"]
    assert message["content"] == [] and message["stop_reason"] is None
    assert events[-1][0] == "message_stop"
    assert events[-2][0] == "message_delta"
    blocks: list[dict[str, Any]] = []
    open_index = None
    for name, data in events[1:-2]:
        if name == "content_block_start":
            assert open_index is None and data["index"] == len(blocks)
            open_index = data["index"]
            blocks.append(dict(data["content_block"]))
            blocks[-1]["_json"] = ""
        elif name == "content_block_delta":
            assert data["index"] == open_index
            delta, block = data["delta"], blocks[open_index]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "input_json_delta":
                block["_json"] += delta["partial_json"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            elif delta["type"] == "citations_delta":
                block["citations"].append(delta["citation"])
            else:
                raise AssertionError(f"unknown delta {delta['type']}")
        elif name == "content_block_stop":
            assert data["index"] == open_index
            open_index = None
        else:
            raise AssertionError(f"unexpected event {name} inside the message")
    assert open_index is None
    for block in blocks:
        raw = block.pop("_json")
        if block["type"] in ("tool_use", "server_tool_use", "mcp_tool_use"):
            block["input"] = json.loads(raw) if raw else {}
    delta = events[-2][1]
    message.update(content=blocks, **delta["delta"])
    message["usage"] = {**message["usage"], **delta["usage"]}
    return message
