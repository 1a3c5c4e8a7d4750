"""The compiled fast path and jsonschema read the same schema file the same way: whatever
one accepts, the other accepts too (so the fast path can never let a bad body through)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mockspike.contract.validate import _compiled, message_schema
from tests.conftest import SEED_BODY

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 70_000)
    | st.floats(-2, 2, allow_nan=False)
    | st.text(max_size=6)
    | st.sampled_from(
        ["text", "image", "tool_use", "user", "assistant", "ephemeral", "enabled", "auto", "object"]
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "text",
                    "role",
                    "content",
                    "name",
                    "id",
                    "input",
                    "source",
                    "cache_control",
                    "budget_tokens",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
FIELDS = [
    "model",
    "messages",
    "max_tokens",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "stream",
    "tools",
    "tool_choice",
    "thinking",
    "metadata",
    "speed",
    "unknown_field",
]


@st.composite
def bodies(draw: Any) -> dict[str, Any]:
    body = dict(SEED_BODY)
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        body[name] = draw(json_values)
    if draw(st.booleans()):
        body["messages"] = [{"role": draw(json_values), "content": draw(json_values)}]
    return body


def fast_accepts(body: dict[str, Any]) -> bool:
    return _compiled("messages")(body)


@given(bodies())
def test_fast_path_never_accepts_what_jsonschema_rejects(body: dict[str, Any]) -> None:
    slow_accepts = not any(True for _ in Draft202012Validator(message_schema()).iter_errors(body))
    if fast_accepts(body):
        assert slow_accepts, body
