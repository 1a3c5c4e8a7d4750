"""Citations in the synthetic reply: when a request enables citations on a document or a
search result, the API's answer cites it, so the synthetic one does too.

Indexes follow the API: `document_index` counts the request's `document` blocks in order,
`search_result_index` its `search_result` blocks (top level or inside a `tool_result`). The
citation kind follows the source: plain text -> `char_location`, a PDF -> `page_location`,
custom content -> `content_block_location`, a search result -> `search_result_location`.
"""

from __future__ import annotations

from typing import Any

from mockspike.model.blocks import request_blocks

Block = dict[str, Any]

#: The API quotes at most this much of a source in `cited_text`.
QUOTE = 150


def citation(body: dict[str, Any]) -> Block | None:
    """A citation of the first source in `body` with citations enabled, or None."""
    documents = searches = 0
    for block in request_blocks(body):
        kind = block.get("type")
        if kind == "document":
            if _enabled(block):
                return _document(block, documents)
            documents += 1
        elif kind == "search_result":
            if _enabled(block):
                return _search_result(block, searches)
            searches += 1
    return None


def _enabled(block: Block) -> bool:
    settings = block.get("citations")
    return isinstance(settings, dict) and settings.get("enabled") is True


def _first_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                return str(part["text"])
    return ""


def _document(block: Block, index: int) -> Block:
    source = block.get("source") or {}
    title = block.get("title")
    kind = source.get("type")
    location: dict[str, Any]
    if kind == "text":
        quote = str(source.get("data", ""))[:QUOTE]
        location = {"type": "char_location", "start_char_index": 0, "end_char_index": len(quote)}
    elif kind == "content":
        quote = _first_text(source.get("content"))[:QUOTE]
        location = {"type": "content_block_location", "start_block_index": 0, "end_block_index": 1}
    else:  # a PDF, inline or by URL: its first page
        quote = ""
        location = {"type": "page_location", "start_page_number": 1, "end_page_number": 2}
    kind_field = {"type": location.pop("type")}
    return {
        **kind_field,
        "cited_text": quote,
        "document_index": index,
        "document_title": title,
        **location,
        "file_id": None,
    }


def _search_result(block: Block, index: int) -> Block:
    return {
        "type": "search_result_location",
        "cited_text": _first_text(block.get("content"))[:QUOTE],
        "search_result_index": index,
        "source": block.get("source"),
        "title": block.get("title"),
        "start_block_index": 0,
        "end_block_index": 1,
    }
