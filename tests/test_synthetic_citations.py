"""A request that enables citations on a document or a search result gets a synthetic
reply that cites it, through `create` and `stream` alike."""

from __future__ import annotations

from typing import Any

import pytest

from mockspike import MockSpike

TEXT_DOC = {
    "type": "document",
    "source": {"type": "text", "media_type": "text/plain", "data": "The order ships Friday."},
    "title": "Shipping policy",
    "citations": {"enabled": True},
}
SEARCH = {
    "type": "search_result",
    "source": "https://example.com/kb/1",
    "title": "Returns",
    "content": [{"type": "text", "text": "Returns are free within 30 days."}],
    "citations": {"enabled": True},
}


def ask(*blocks: dict[str, Any]) -> dict[str, Any]:
    content = [*blocks, {"type": "text", "text": "When does it ship?"}]
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": content}],
    }


@pytest.mark.sdk
def test_a_document_with_citations_enabled_is_cited_in_json_and_stream() -> None:
    client = MockSpike(profile="anthropic").anthropic_client()
    plain = {**TEXT_DOC, "citations": {"enabled": False}}
    message = client.messages.create(**ask(plain, TEXT_DOC))
    (cite,) = message.content[0].citations
    assert cite.type == "char_location"
    assert cite.document_index == 1  # the second document of the request
    assert cite.cited_text == "The order ships Friday."
    assert cite.end_char_index == len(cite.cited_text)
    with client.messages.stream(**ask(plain, TEXT_DOC)) as stream:
        streamed = stream.get_final_message()
    assert streamed.content[0].citations == message.content[0].citations


@pytest.mark.sdk
def test_a_search_result_with_citations_enabled_is_cited() -> None:
    client = MockSpike(profile="anthropic").anthropic_client()
    message = client.messages.create(**ask(SEARCH))
    (cite,) = message.content[0].citations
    assert cite.type == "search_result_location"
    assert (cite.search_result_index, cite.source) == (0, "https://example.com/kb/1")
    assert cite.cited_text == "Returns are free within 30 days."


def test_without_citations_enabled_nothing_is_cited() -> None:
    fake = MockSpike(profile="anthropic")
    message = fake.anthropic_client().messages.create(**ask({**TEXT_DOC, "citations": None}))
    assert not message.content[0].citations
