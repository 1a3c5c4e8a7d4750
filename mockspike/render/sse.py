"""Server-sent events in the API's exact framing: `event: NAME\\ndata: {compact JSON}\\n\\n`.

The one home of SSE: the event grammar of a message, the framer and the parser.
`events()` is the grammar, as (event, data) pairs; `frames()` is the same stream as wire
bytes, built for speed (each delta frame is a prepared head, the piece as JSON and a fixed
tail; the tests hold it byte for byte to `frame()` of each event). Both are generators:
each frame is built when the adapter asks for the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mockspike import _json
from mockspike.model.tokens import CHARS_PER_TOKEN
from mockspike.render.message import Rendered

CONTENT_TYPE = "text/event-stream; charset=utf-8"
_TEXT_CHUNK_WORDS = 3
_JSON_CHUNK_CHARS = 24


#: The ping exactly as the API frames it: its data is not compact JSON (recorded traffic).
PING = b'event: ping\ndata: {"type": "ping"}\n\n'


def frame(event: str, data: dict[str, Any] | str) -> bytes:
    """One event; `data` is JSON-encoded, or sent as is when it is text (a recording)."""
    if event == "ping" and data == {"type": "ping"}:
        return PING
    payload = data.encode() if isinstance(data, str) else _json.dumps(data)
    if event == "message":  # SSE's default name: a stream that names no events (OpenAI's)
        return b"data: " + payload + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + payload + b"\n\n"


class EventParser:
    """Parse an SSE body as it arrives: feed it bytes, get the events completed so far as
    (event name, data parsed as JSON where it is JSON). Linear in the bytes fed: an event
    still incomplete is held as pieces, joined once, when its blank line arrives (a body
    without blank lines is never re-scanned from its start)."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._last = b""
        self._cr = b""

    def feed(self, chunk: bytes) -> list[tuple[str, Any]]:
        chunk = self._cr + chunk
        self._cr = b"\r" if chunk.endswith(b"\r") else b""  # a CRLF cut between chunks
        chunk = chunk[: len(chunk) - len(self._cr)].replace(b"\r\n", b"\n")
        if not chunk:
            return []
        if b"\n\n" not in chunk and not (self._last == b"\n" and chunk[:1] == b"\n"):
            self._pieces.append(chunk)
            self._last = chunk[-1:]
            return []
        buffer = b"".join([*self._pieces, chunk])
        *blocks, rest = buffer.split(b"\n\n")
        self._pieces = [rest] if rest else []
        self._last = rest[-1:]
        return [event for block in blocks if (event := _event(block)) is not None]


def parse(raw: bytes) -> list[tuple[str, Any]]:
    """Every event of a whole SSE body."""
    return EventParser().feed(raw + b"\n\n")


def _event(block: bytes) -> tuple[str, Any] | None:
    name, data_lines = "message", []
    for line in block.split(b"\n"):
        if line.startswith(b"event:"):  # an empty name is the default, as the SSE spec says
            name = line[6:].strip().decode("utf-8", "replace") or "message"
        elif line.startswith(b"data:"):
            data_lines.append(line[5:].lstrip(b" "))
    if not data_lines:
        return None
    data = b"\n".join(data_lines)
    try:
        return name, _json.loads(data)
    except _json.JSONDecodeError:
        return name, data.decode("utf-8", "replace")


#: Usage fields the API sends once, at the end (`message_delta`), not in `message_start`.
_FINAL_ONLY = ("server_tool_use", "output_tokens_details", "iterations")
#: Usage fields of `message_start` that `message_delta` does not repeat.
_START_ONLY = ("service_tier", "cache_creation", "inference_geo")


def events(rendered: Rendered, deltas: bool = True) -> Iterator[tuple[str, dict[str, Any]]]:
    """The event grammar: message_start, then per block start/deltas/stop, a ping after the
    first block starts, message_delta (stop reason and details, the container, cumulative
    usage, context management), message_stop. Accumulated as the SDK does, the events build
    exactly the message `rendered.message()` is. Without `deltas`, the deltas and the ping are
    left to the caller (`frames()` makes them)."""
    reply = rendered.reply
    start = rendered.message()
    start.update(content=[], stop_reason=None, stop_sequence=None, stop_details=None)
    start.pop("container", None)
    start.pop("context_management", None)
    start["usage"] = _without(rendered.usage(1), _FINAL_ONLY)
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(reply.content):
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": _empty(block),
            },
        )
        if deltas:
            if index == 0:
                yield "ping", {"type": "ping"}
            for kind, field, piece in _delta_pieces(block):
                delta = {"type": kind, field: piece}
                yield (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    full = rendered.usage(reply.output_tokens)
    if rendered.full_usage:
        final_usage = _without(full, _START_ONLY)
    else:
        final_usage = {"output_tokens": reply.output_tokens}
        final_usage.update({k: full[k] for k in _FINAL_ONLY if k in full})
    stop: dict[str, Any] = {
        "stop_reason": reply.stop_reason,
        "stop_sequence": reply.stop_sequence,
        "stop_details": reply.stop_details,
    }
    if reply.container is not None:
        stop["container"] = reply.container
    message_delta = {"type": "message_delta", "delta": stop, "usage": final_usage}
    if reply.context_management is not None:
        message_delta["context_management"] = reply.context_management
    yield "message_delta", message_delta
    yield "message_stop", {"type": "message_stop"}


def _without(usage: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in usage.items() if k not in names}


_PING = frame("ping", {"type": "ping"})
_DELTA_TAIL = b"}}\n\n"
_PACED_FIELDS = frozenset({"text", "partial_json", "thinking"})
"""Delta fields that carry output tokens (a signature does not)."""


def frames(rendered: Rendered) -> Iterator[tuple[float, bytes]]:
    """`events()` as wire frames, each with the output tokens it carries (for pacing)."""
    for name, data in events(rendered, deltas=False):
        if name == "content_block_start":
            yield 0.0, frame(name, data)
            index = data["index"]
            if index == 0:
                yield 0.0, _PING
            heads: dict[tuple[str, str], bytes] = {}
            for kind, field, piece in _delta_pieces(rendered.reply.content[index]):
                head = heads.get((kind, field))
                if head is None:
                    head = heads[(kind, field)] = (
                        b'event: content_block_delta\ndata: {"type":"content_block_delta",'
                        b'"index":%d,"delta":{"type":"%s","%s":'
                        % (index, kind.encode(), field.encode())
                    )
                tokens = len(piece) / CHARS_PER_TOKEN if field in _PACED_FIELDS else 0.0
                yield tokens, head + _json.dumps(piece) + _DELTA_TAIL
        else:
            yield 0.0, frame(name, data)


def output_tokens(data: dict[str, Any]) -> float:
    """Output tokens an event carries, for pacing: deltas of text, JSON or thinking. Not
    rounded, so the deltas of a block add up to the block's own estimate."""
    if data["type"] != "content_block_delta":
        return 0.0
    delta = data["delta"]
    piece = delta.get("text") or delta.get("partial_json") or delta.get("thinking") or ""
    return len(piece) / CHARS_PER_TOKEN


#: Blocks whose `input` streams as `input_json_delta` (their start carries `input: {}`).
_STREAMED_INPUT = ("tool_use", "server_tool_use", "mcp_tool_use")


def _empty(block: dict[str, Any]) -> dict[str, Any]:
    """A block as `content_block_start` carries it: text, thinking and tool input empty (to
    be filled by deltas); every other block whole."""
    kind = block["type"]
    if kind == "text":
        # Recorded traffic: a cited block starts with `"citations": []`, the key first.
        empty: dict[str, Any] = {"citations": []} if block.get("citations") is not None else {}
        return {**empty, "type": "text", "text": ""}
    if kind == "thinking":
        return {"type": "thinking", "thinking": "", "signature": ""}
    if kind in _STREAMED_INPUT:
        return {**block, "input": {}}
    return block


def _delta_pieces(block: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """A block's deltas as (delta type, field, piece): `{"type": ..., field: piece}` (the
    piece is text, or a citation object)."""
    kind = block["type"]
    if kind == "text":
        for citation in block.get("citations") or []:
            yield "citations_delta", "citation", citation
        for piece in _word_chunks(block["text"]):
            yield "text_delta", "text", piece
    elif kind == "thinking":
        # omitted thinking (`display: "omitted"`) is empty: only its signature streams
        for piece in _word_chunks(block["thinking"]) if block["thinking"] else ():
            yield "thinking_delta", "thinking", piece
        yield "signature_delta", "signature", block["signature"]
    elif kind in _STREAMED_INPUT:
        raw = _json.dumps(block["input"]).decode()
        yield "input_json_delta", "partial_json", ""
        for i in range(0, len(raw), _JSON_CHUNK_CHARS):
            yield "input_json_delta", "partial_json", raw[i : i + _JSON_CHUNK_CHARS]


def _word_chunks(text: str) -> Iterator[str]:
    """Split text into deltas of a few words each; joined, they give the text back exactly."""
    words = text.split(" ")
    for i in range(0, len(words), _TEXT_CHUNK_WORDS):
        chunk = " ".join(words[i : i + _TEXT_CHUNK_WORDS])
        yield chunk if i == 0 else " " + chunk
