"""Token estimates: one deterministic estimator for every endpoint (a value computation,
below everything that bills, renders or checks).

The estimate is documented in docs/contract.md: about four characters a token, plus a small
fixed overhead a request and a message. `count_tokens`, `usage.input_tokens`, the context
window check, the prompt cache and the credits estimate (`gateway/accounting.py`) all use
it, so they always agree.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any

from mockspike import _json

REQUEST_OVERHEAD = 3
MESSAGE_OVERHEAD = 3
IMAGE_TOKENS = 1600
CHARS_PER_TOKEN = 4


def text_tokens(text: str) -> int:
    """Four characters a token, rounded up."""
    return -(-len(text) // CHARS_PER_TOKEN)


def _block_tokens(block: dict[str, Any]) -> int:
    kind = block.get("type")
    if kind == "text":
        return text_tokens(block.get("text", ""))
    if kind == "image":
        return IMAGE_TOKENS
    if kind == "document":
        source = block.get("source", {})
        if source.get("type") == "text":
            return text_tokens(source.get("data", ""))
        if source.get("type") == "content":
            return content_tokens(source.get("content", ""))
        return IMAGE_TOKENS
    if kind == "tool_use":
        return text_tokens(block.get("name", "")) + _json_tokens(block.get("input", {}))
    if kind == "tool_result":
        return MESSAGE_OVERHEAD + content_tokens(block.get("content", ""))
    if kind == "thinking":
        return text_tokens(block.get("thinking", ""))
    if kind == "redacted_thinking":
        return text_tokens(block.get("data", ""))
    return 0


def content_tokens(content: Any) -> int:
    """Tokens of a `content` or `system` value: a string or a list of blocks."""
    if isinstance(content, str):
        return text_tokens(content)
    if isinstance(content, list):
        return sum(_block_tokens(b) for b in content if isinstance(b, dict))
    return 0


def _json_tokens(value: Any) -> int:
    """`text_tokens` of `value` as compact JSON (counted in characters, as the text is)."""
    raw = _json.dumps(value)
    return -(-len(raw) // CHARS_PER_TOKEN) if raw.isascii() else text_tokens(raw.decode())


def prompt_items(body: dict[str, Any]) -> list[tuple[int, Any]]:
    """The prompt in cache order — tools, then system, then messages — as (tokens, item):
    each tool, system block and content block, and each turn's overhead."""
    items: list[tuple[int, Any]] = []
    add = items.append
    for tool in body.get("tools") or []:
        bare = (
            tool
            if "cache_control" not in tool
            else {k: v for k, v in tool.items() if k != "cache_control"}
        )
        add((_json_tokens(bare), tool))
    system = body.get("system")
    if isinstance(system, list):
        for block in system:
            add((_block_tokens(block), block))
    elif system:
        add((content_tokens(system), system))
    for message in body.get("messages") or []:
        add((MESSAGE_OVERHEAD, message.get("role")))
        content = message.get("content")
        if isinstance(content, list):
            for block in content:
                add(((_block_tokens(block) if isinstance(block, dict) else 0), block))
        else:
            add((content_tokens(content), content))
    return items


class Prompt:
    """One body's prompt, walked once: its `prompt_items`, its size and whether any item
    carries a `cache_control` breakpoint (looked for on first use)."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.items = prompt_items(body)
        self.tokens = REQUEST_OVERHEAD + sum([tokens for tokens, _ in self.items])
        self._marked: bool | None = None

    @property
    def marked(self) -> bool:
        if self._marked is None:
            self._marked = mentions(self.body, b"cache_control") and any(
                isinstance(item, dict) and item.get("cache_control") for _, item in self.items
            )
        return self._marked


_ESCAPE = re.compile(rb"\\u")
"""A `\\u` escape (searched only when the text has a backslash at all: a byte search)."""

_REQUEST: ContextVar[_Pending | None] = ContextVar("mockspike_prompt", default=None)


class _Pending:
    """The request's prompt, walked when first asked for (after the schema check)."""

    def __init__(self, body: dict[str, Any], raw: bytes | None = None) -> None:
        self.body = body
        self.raw = raw if raw is not None else b""
        self.escaped = raw is None or (b"\\" in raw and _ESCAPE.search(raw) is not None)
        """True unless `raw` holds no `\\u` escape (see `mentions`)."""
        self.words: dict[bytes, bool] = {}
        """`mentions`' answers so far (the rules and the cache ask the same)."""
        self._prompt: Prompt | None = None

    def get(self) -> Prompt:
        if self._prompt is None:
            self._prompt = Prompt(self.body)
        return self._prompt


class one_walk:  # lower case: used as a function, `with one_walk(body):`
    """While a request is answered, everyone who measures its body (the pipeline, the
    context-window rule, the prompt cache) shares one walk of it, made when first asked
    for. The body must not change inside the block. (A class, not a generator: it runs
    for every request, and this costs a third of `contextlib`'s.)"""

    __slots__ = ("pending", "token")

    def __init__(self, body: dict[str, Any], raw: bytes | None = None) -> None:
        """`raw`: the bytes `body` was parsed from, when it was (see `mentions`)."""
        self.pending = _Pending(body, raw)

    def __enter__(self) -> _Pending:
        self.token = _REQUEST.set(self.pending)
        return self.pending

    def __exit__(self, *exc: object) -> None:
        _REQUEST.reset(self.token)


def prompt_of(body: dict[str, Any]) -> Prompt:
    """The request's shared `Prompt` when `body` is the one being answered, else a new one."""
    current = _REQUEST.get()
    return current.get() if current is not None and current.body is body else Prompt(body)


def mentions(body: dict[str, Any], word: bytes) -> bool:
    """False only when `word` cannot occur in `body`: it is the request being answered, and
    the JSON text it was parsed from holds neither `word` nor any `\\u` escape (the one way
    JSON can spell a letter or `_` other than as itself). Lets a walk that looks for a
    rare key (`cache_control`, a `file` source) be skipped at the speed of a byte search."""
    current = _REQUEST.get()
    if current is None or current.body is not body or current.escaped:
        return True
    found = current.words.get(word)
    if found is None:
        found = current.words[word] = word in current.raw
    return found


def input_tokens(body: dict[str, Any]) -> int:
    """The prompt's size: the sum over `prompt_items`, plus the request's overhead."""
    return prompt_of(body).tokens
