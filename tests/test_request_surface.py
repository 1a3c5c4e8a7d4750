"""The strategies draw the 2026 request surface (server tools, server-tool history, search
results, citations, output_config, adaptive thinking, …), and every draw is accepted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from mockspike import strategies as ms
from mockspike.contract import load_profile
from mockspike.contract.validate import check_message_request


@pytest.mark.parametrize("profile", ["bytespike", "anthropic"])
@given(data=st.data())
def test_drawn_requests_pass_the_contract(profile: str, data: st.DataObject) -> None:
    body = data.draw(ms.message_requests(profile=profile))
    check_message_request(body, load_profile(profile))


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for m in body["messages"] if isinstance(m["content"], list) for b in m["content"]]


SHAPES: dict[str, Callable[[dict[str, Any]], bool]] = {
    "server tool": lambda b: any(t.get("type", "custom") != "custom" for t in b.get("tools", [])),
    "custom type and strict": lambda b: any("strict" in t for t in b.get("tools", [])),
    "server tool history": lambda b: any(x["type"] == "web_search_tool_result" for x in _blocks(b)),
    "citations": lambda b: any(x.get("citations") for x in _blocks(b)),
    "search result": lambda b: any(x["type"] == "search_result" for x in _blocks(b)),
    "structured output": lambda b: "format" in b.get("output_config", {}),
    "effort": lambda b: "effort" in b.get("output_config", {}),
    "adaptive thinking": lambda b: b.get("thinking", {}).get("type") == "adaptive",
    "thinking display": lambda b: "display" in b.get("thinking", {}),
    "service tier": lambda b: "service_tier" in b,
}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_new_shapes_are_drawn(shape: str) -> None:
    found = find(
        ms.message_requests(profile="anthropic"),
        SHAPES[shape],
        settings=settings(
            max_examples=200,
            database=None,
            derandomize=True,
            phases=[Phase.generate],  # found is enough: no shrinking
            suppress_health_check=list(HealthCheck),
        ),
    )
    check_message_request(found, load_profile("anthropic"))
