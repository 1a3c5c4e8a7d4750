"""Agent frameworks' structured-output helpers against the fake: no script, a typed answer.

pydantic-ai (`pip install mockspike[frameworks]`) asks for structured output two ways: a
forced output tool (its default) and the API's own structured outputs (`NativeOutput`,
`output_config.format`). The synthetic default answers both with schema-valid values."""

from __future__ import annotations

import pydantic
import pytest

from mockspike import MockSpike

pydantic_ai = pytest.importorskip("pydantic_ai", reason="install mockspike[frameworks]")

from pydantic_ai.models.anthropic import AnthropicModel  # noqa: E402
from pydantic_ai.providers.anthropic import AnthropicProvider  # noqa: E402


class Ticket(pydantic.BaseModel):
    category: str
    urgent: bool
    order_id: int = pydantic.Field(ge=1)


@pytest.mark.parametrize("native", [False, True], ids=["output-tool", "native-output"])
def test_pydantic_ai_agent_gets_a_typed_answer(native: bool) -> None:
    fake = MockSpike(profile="anthropic")
    provider = AnthropicProvider(anthropic_client=fake.async_anthropic_client())
    model = AnthropicModel("claude-haiku-4-5", provider=provider)
    output = pydantic_ai.NativeOutput(Ticket) if native else Ticket
    agent = pydantic_ai.Agent(model, output_type=output, model_settings={"max_tokens": 1024})
    result = agent.run_sync("Open a ticket: order 42 is late.")
    assert isinstance(result.output, Ticket) and result.output.order_id >= 1
    sent = fake.requests.last.body
    assert ("output_config" in sent) is native  # the path the framework took


def test_pydantic_ai_openai_model_speaks_the_openai_dialect() -> None:
    """A framework that speaks only OpenAI's chat completions (pydantic-ai's OpenAI model)
    through the compatibility endpoint: a scripted tool call, the tool run by the framework,
    the final typed answer from its output tool, all journalled in the OpenAI dialect."""
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    fake = MockSpike()
    fake.on(tool_result=True).reply_tool_use(
        "final_result", {"category": "logistics", "urgent": True, "order_id": 42}
    )
    fake.on(text="order 42").reply_tool_use("lookup_order", {"order_id": 42})
    provider = OpenAIProvider(openai_client=fake.async_openai_client())
    model = OpenAIChatModel("claude-haiku-4-5", provider=provider)
    agent = pydantic_ai.Agent(model, output_type=Ticket, instructions="You triage tickets.")
    looked_up: list[int] = []

    @agent.tool_plain
    def lookup_order(order_id: int) -> str:
        looked_up.append(order_id)
        return "shipped 9 days ago, not delivered"

    result = agent.run_sync("Open a ticket: order 42 is late.")
    assert result.output == Ticket(category="logistics", urgent=True, order_id=42)
    assert looked_up == [42]
    assert [(e.dialect, e.status) for e in fake.requests] == [("openai", 200)] * 2
    first = fake.requests[0].translated
    assert first is not None and first["system"] == "You triage tickets."
    assert {t["name"] for t in first["tools"]} == {"lookup_order", "final_result"}
