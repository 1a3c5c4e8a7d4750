"""Server-tool turns: the blocks the API returns when Claude runs one of its own tools.

Builders for each block (`server_tool_use`, the result blocks, text with citations) in the
API's shapes (as the official SDK types them: `anthropic/types/*_block.py`), for scripted
replies and for the synthetic default; and `server_turn`, the plausible deterministic turn
the synthetic default gives when a request forces a server tool through `tool_choice`.
Anthropic-defined client tools (`bash`, `text_editor`, `memory`, `computer`) are answered
with a `tool_use` whose input has their documented shape.
"""

from __future__ import annotations

import base64
import random
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockspike._ids import from_bytes, random_id
from mockspike.synthetic.strings import WORDS

Block = dict[str, Any]


def server_tool_id(rng: random.Random | None = None) -> str:
    """An id shaped like the API's (`srvtoolu_01…`), from `rng` when given."""
    if rng is None:
        return random_id("srvtoolu_01", 22)
    return "srvtoolu_01" + from_bytes(rng.randbytes(22), 22)


def _opaque(rng: random.Random | None, size: int = 48) -> str:
    """Stand-in for the API's encrypted fields (opaque base64 the client sends back)."""
    data = rng.randbytes(size) if rng is not None else secrets.token_bytes(size)
    return base64.b64encode(data).decode()


def server_tool_use(name: str, input: dict[str, Any], id: str | None = None) -> Block:
    """Claude calling a server tool (`web_search`, `web_fetch`, `bash_code_execution`, …)."""
    return {"type": "server_tool_use", "id": id or server_tool_id(), "name": name, "input": input}


def _result(kind: str, tool_use_id: str, content: Any) -> Block:
    return {"type": kind, "tool_use_id": tool_use_id, "content": content}


def _error(kind: str, code: str) -> Block:
    return {"type": f"{kind}_error", "error_code": code}


# -- web search ---------------------------------------------------------------------------


def web_search_result(
    url: str, title: str, *, page_age: str | None = None, encrypted_content: str | None = None
) -> Block:
    return {
        "type": "web_search_result",
        "title": title,
        "url": url,
        "encrypted_content": encrypted_content or _opaque(None),
        "page_age": page_age,
    }


def web_search_tool_result(
    tool_use_id: str, results: list[Block] | None = None, *, error_code: str | None = None
) -> Block:
    """The results of a search, or an error (`max_uses_exceeded`, `too_many_requests`, …)."""
    kind = "web_search_tool_result"
    content = _error(kind, error_code) if error_code else list(results or [])
    return _result(kind, tool_use_id, content)


def web_search_citation(result: Block, cited_text: str) -> Block:
    """A citation of one search result (the API quotes at most 150 characters)."""
    return {
        "type": "web_search_result_location",
        "cited_text": cited_text[:150],
        "url": result["url"],
        "title": result.get("title"),
        "encrypted_index": _opaque(None, 24),
    }


def cited_text(text: str, citations: list[Block]) -> Block:
    """A text block carrying citations."""
    return {"type": "text", "text": text, "citations": list(citations)}


# -- web fetch -----------------------------------------------------------------------------


def web_fetch_tool_result(
    tool_use_id: str,
    url: str,
    text: str | None = None,
    *,
    title: str | None = None,
    retrieved_at: str | None = None,
    error_code: str | None = None,
) -> Block:
    """A fetched page as a plain-text document, or an error (`url_not_accessible`, …)."""
    kind = "web_fetch_tool_result"
    if error_code:
        return _result(kind, tool_use_id, _error(kind, error_code))
    document = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": text or ""},
        "title": title,
        "citations": None,
    }
    return _result(
        kind,
        tool_use_id,
        {"type": "web_fetch_result", "url": url, "retrieved_at": retrieved_at, "content": document},
    )


# -- code execution ------------------------------------------------------------------------


def code_execution_tool_result(
    tool_use_id: str,
    stdout: str = "",
    stderr: str = "",
    return_code: int = 0,
    *,
    error_code: str | None = None,
) -> Block:
    """The result of the `code_execution_20250522` tool (Python)."""
    return _run_result("code_execution", tool_use_id, stdout, stderr, return_code, error_code)


def bash_code_execution_tool_result(
    tool_use_id: str,
    stdout: str = "",
    stderr: str = "",
    return_code: int = 0,
    *,
    error_code: str | None = None,
) -> Block:
    """The result of a shell command run by `code_execution_20250825`."""
    return _run_result("bash_code_execution", tool_use_id, stdout, stderr, return_code, error_code)


def _run_result(
    prefix: str,
    tool_use_id: str,
    stdout: str,
    stderr: str,
    return_code: int,
    error_code: str | None,
) -> Block:
    """`<prefix>_tool_result` holding a `<prefix>_result` (output and exit status) or an
    error: the one shape Python and shell runs share."""
    kind = f"{prefix}_tool_result"
    if error_code:
        return _result(kind, tool_use_id, _error(kind, error_code))
    content = {
        "type": f"{prefix}_result",
        "stdout": stdout,
        "stderr": stderr,
        "return_code": return_code,
        "content": [],
    }
    return _result(kind, tool_use_id, content)


def text_editor_code_execution_tool_result(
    tool_use_id: str, content: Block | None = None, *, error_code: str | None = None
) -> Block:
    """The result of a file edit by `code_execution_20250825`: pass one of `view_result`,
    `create_result`, `str_replace_result`, or an `error_code` (`file_not_found`, …)."""
    kind = "text_editor_code_execution_tool_result"
    if error_code:
        return _result(kind, tool_use_id, _error(kind, error_code))
    return _result(kind, tool_use_id, content or create_result())


def view_result(text: str, file_type: str = "text") -> Block:
    lines = text.count("\n") + 1 if text else 0
    return {
        "type": "text_editor_code_execution_view_result",
        "content": text,
        "file_type": file_type,
        "num_lines": lines,
        "start_line": 1,
        "total_lines": lines,
    }


def create_result(is_file_update: bool = False) -> Block:
    return {"type": "text_editor_code_execution_create_result", "is_file_update": is_file_update}


def str_replace_result(old_start: int, old_lines: int, new_lines: list[str]) -> Block:
    return {
        "type": "text_editor_code_execution_str_replace_result",
        "old_start": old_start,
        "old_lines": old_lines,
        "new_start": old_start,
        "new_lines": len(new_lines),
        "lines": new_lines,
    }


# -- tool search ---------------------------------------------------------------------------


def tool_search_tool_result(
    tool_use_id: str, tool_names: list[str] | None = None, *, error_code: str | None = None
) -> Block:
    """The tools a search found (their names), or an error."""
    kind = "tool_search_tool_result"
    if error_code:
        return _result(kind, tool_use_id, _error(kind, error_code))
    references = [{"type": "tool_reference", "tool_name": name} for name in tool_names or []]
    return _result(
        kind, tool_use_id, {"type": "tool_search_tool_search_result", "tool_references": references}
    )


# -- MCP and container uploads --------------------------------------------------------------


def mcp_tool_use(
    name: str, input: dict[str, Any], server_name: str, id: str | None = None
) -> Block:
    """Claude calling a tool of a remote MCP server (`mcp_servers`, beta)."""
    return {
        "type": "mcp_tool_use",
        "id": id or random_id("mcptoolu_01", 22),
        "name": name,
        "server_name": server_name,
        "input": input,
    }


def mcp_tool_result(tool_use_id: str, content: str | list[Block], is_error: bool = False) -> Block:
    """What the MCP server answered: a string or text blocks."""
    return {
        "type": "mcp_tool_result",
        "tool_use_id": tool_use_id,
        "is_error": is_error,
        "content": content,
    }


def container_upload(file_id: str) -> Block:
    """A file (Files API) put into the code-execution container."""
    return {"type": "container_upload", "file_id": file_id}


# -- whole turns for scripts -----------------------------------------------------------------


def web_search_turn(
    query: str,
    results: list[str | dict[str, Any]] | None = None,
    text: str | None = None,
    *,
    cite: bool = True,
    error_code: str | None = None,
) -> list[Block]:
    """A web search and what Claude said of it: `server_tool_use`, `web_search_tool_result`
    (each result a URL or `{"url", "title", "page_age"}`; or an `error_code`), then `text`,
    citing the first result when `cite`."""
    use = server_tool_use("web_search", {"query": query})
    found = [_search_result(r) for r in results or []]
    content = [use, web_search_tool_result(use["id"], found, error_code=error_code)]
    if text is not None:
        if cite and found and not error_code:
            content.append(cited_text(text, [web_search_citation(found[0], text)]))
        else:
            content.append({"type": "text", "text": text})
    return content


def _search_result(result: str | dict[str, Any]) -> Block:
    if isinstance(result, str):
        result = {"url": result}
    if not isinstance(result, dict) or not isinstance(result.get("url"), str):
        raise ValueError(f"a search result is a URL or {{'url', 'title'?}}: {result!r}")
    unknown = set(result) - {"url", "title", "page_age", "encrypted_content"}
    if unknown:
        raise ValueError(f"a search result has url, title, page_age: not {sorted(unknown)}")
    url = result["url"]
    title = result.get("title") or url.split("//", 1)[-1].split("/", 1)[0]
    return web_search_result(
        url,
        title,
        page_age=result.get("page_age"),
        encrypted_content=result.get("encrypted_content"),
    )


def code_execution_turn(
    command: str,
    stdout: str = "",
    stderr: str = "",
    return_code: int = 0,
    text: str | None = None,
    *,
    error_code: str | None = None,
) -> list[Block]:
    """A shell command run by `code_execution_20250825` and what Claude said of it."""
    use = server_tool_use("bash_code_execution", {"command": command})
    result = bash_code_execution_tool_result(
        use["id"], stdout, stderr, return_code, error_code=error_code
    )
    return [use, result] + ([{"type": "text", "text": text}] if text is not None else [])


# -- the synthetic turn ----------------------------------------------------------------------


@dataclass
class Turn:
    """What a forced server (or Anthropic-defined client) tool produces."""

    content: list[Block]
    stop_reason: str = "end_turn"


def tool_kind(tool: dict[str, Any]) -> str | None:
    """`web_search` for `web_search_20250305` and so on; None for custom tools."""
    kind = tool.get("type")
    if not isinstance(kind, str) or kind == "custom":
        return None
    return re.sub(r"_\d{8}$", "", kind)


def server_turn(tool: dict[str, Any], body: dict[str, Any], rng: random.Random) -> Turn | None:
    """The turn for a forced Anthropic-defined tool, or None if the fake does not know it."""
    make = _TURNS.get(tool_kind(tool) or "")
    return make(tool, body, rng) if make else None


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            texts = [b.get("text", "") for b in content if isinstance(b, dict)]
            return " ".join(t for t in texts if isinstance(t, str))
    return ""


def _query(body: dict[str, Any]) -> str:
    words = re.findall(r"[\w'-]+", _last_user_text(body))
    return " ".join(words[:8]) or "latest news"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "page"


def _web_search(tool: dict[str, Any], body: dict[str, Any], rng: random.Random) -> Turn:
    query = _query(body)
    use = server_tool_use("web_search", {"query": query}, server_tool_id(rng))
    results = []
    for i in range(3):
        site = rng.choice(WORDS)
        results.append(
            web_search_result(
                f"https://{site}.example.com/{_slug(query)}-{i + 1}",
                f"{query.title()} | {site.title()} {('News', 'Guide', 'Reference')[i]}",
                page_age=f"{rng.choice(_MONTHS)} {rng.randint(1, 28)}, 2025",
                encrypted_content=_opaque(rng),
            )
        )
    first, second = results[0], results[1]
    quote1 = f"{query.capitalize()} is covered in detail by {first['title']}."
    quote2 = f"Recent reporting on {query} agrees on the main points."
    return Turn(
        [
            use,
            web_search_tool_result(use["id"], results),
            {"type": "text", "text": "According to the search results, "},
            cited_text(quote1, [_citation(first, quote1, rng)]),
            {"type": "text", "text": " "},
            cited_text(quote2, [_citation(second, quote2, rng)]),
        ]
    )


def _citation(result: Block, text: str, rng: random.Random) -> Block:
    citation = web_search_citation(result, text)
    citation["encrypted_index"] = _opaque(rng, 24)
    return citation


def _web_fetch(tool: dict[str, Any], body: dict[str, Any], rng: random.Random) -> Turn:
    found = re.search(r"https?://[^\s\"'<>)]+", _last_user_text(body))
    url = (
        found.group(0)
        if found
        else f"https://{rng.choice(WORDS)}.example.com/{_slug(_query(body))}"
    )
    use = server_tool_use("web_fetch", {"url": url}, server_tool_id(rng))
    title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)}"
    page = f"{title}\n\nThis page is a stand-in served by mockspike for {url}."
    stamp = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T12:00:00.000000+00:00"
    return Turn(
        [
            use,
            web_fetch_tool_result(use["id"], url, page, title=title, retrieved_at=stamp),
            {"type": "text", "text": f"The page at {url} is titled {title}."},
        ]
    )


def _code_execution(tool: dict[str, Any], body: dict[str, Any], rng: random.Random) -> Turn:
    a, b = rng.randint(2, 99), rng.randint(2, 99)
    if tool.get("type") == "code_execution_20250522":
        use = server_tool_use("code_execution", {"code": f"print({a} * {b})"}, server_tool_id(rng))
        result = code_execution_tool_result(use["id"], f"{a * b}\n")
    else:
        command = f"python3 -c 'print({a} * {b})'"
        use = server_tool_use("bash_code_execution", {"command": command}, server_tool_id(rng))
        result = bash_code_execution_tool_result(use["id"], f"{a * b}\n")
    text = {"type": "text", "text": f"The code ran and printed {a * b}."}
    return Turn([use, result, text])


def _tool_search(tool: dict[str, Any], body: dict[str, Any], rng: random.Random) -> Turn:
    kind = tool_kind(tool) or "tool_search_tool_regex"
    tools = [t for t in body.get("tools") or [] if tool_kind(t) is None and "name" in t]
    deferred = [t["name"] for t in tools if t.get("defer_loading")]
    names = deferred or [t["name"] for t in tools]
    picked = sorted(rng.sample(names, min(len(names), 2))) if names else []
    term = picked[0] if picked else _query(body).split(" ")[0]
    key = "pattern" if kind.endswith("regex") else "query"
    use = server_tool_use(kind, {key: term}, server_tool_id(rng))
    return Turn(
        [use, tool_search_tool_result(use["id"], picked)],
        stop_reason="end_turn",
    )


def _client_tool(name: str, input: dict[str, Any]) -> Callable[..., Turn]:
    def make(tool: dict[str, Any], body: dict[str, Any], rng: random.Random) -> Turn:
        use = {
            "type": "tool_use",
            "id": "toolu_01" + from_bytes(rng.randbytes(22), 22),
            "name": tool.get("name", name),
            "input": dict(input),
        }
        return Turn([use], stop_reason="tool_use")

    return make


_MONTHS = ("January", "March", "May", "July", "September", "November")

#: Each Anthropic-defined tool (its versioned `type` without the date) and its turn.
_TURNS: dict[str, Callable[[dict[str, Any], dict[str, Any], random.Random], Turn]] = {
    "web_search": _web_search,
    "web_fetch": _web_fetch,
    "code_execution": _code_execution,
    "tool_search_tool_regex": _tool_search,
    "tool_search_tool_bm25": _tool_search,
    "bash": _client_tool("bash", {"command": "ls -la"}),
    "text_editor": _client_tool(
        "str_replace_based_edit_tool", {"command": "view", "path": "/repo/README.md"}
    ),
    "memory": _client_tool("memory", {"command": "view", "path": "/memories"}),
    "computer": _client_tool("computer", {"action": "screenshot"}),
}
