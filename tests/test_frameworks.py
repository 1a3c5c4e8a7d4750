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
