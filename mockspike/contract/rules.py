"""The semantic rules: what a body that fits the schema can still get wrong.

Each rule is a `ContractRule` with a name, a one-line summary, the check, and `breaks`: a function
that turns a valid request into one that breaks exactly this rule. The docs' error table and
the Hypothesis strategies for invalid requests are built from `RULES` and `SCHEMA_CASES`, so
the validator, the docs and the generated tests cannot drift apart.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mockspike.contract import betas as _betas
from mockspike.contract.catalog import Model, Profile
from mockspike.model import tokens
from mockspike.model.errors import ApiError

Body = dict[str, Any]
MAX_CACHE_BREAKPOINTS = 4
MIN_THINKING_BUDGET = 1024
CONTEXT_1M = 1_000_000


Breaker = Callable[[Body, Model], Body]


def _always(model: Model) -> bool:
    return True


@dataclass(frozen=True)
class ContractRule:
    name: str
    summary: str
    check: Callable[[Body, Model, Profile], None] | None
    """None when the JSON Schema (or the catalog) enforces it."""
    breaks: Breaker
    """Turn a plain valid request (text turns, no tools, no sampling options) for `model`
    into one that breaks this rule and no other."""
    applies: Callable[[Model], bool] = _always
    """Whether the rule can be broken on `model` at all (quirks differ by model)."""


def _with(**fields: Any) -> Breaker:
    def apply(body: Body, model: Model) -> Body:
        out = copy.deepcopy(body)
        out.update(copy.deepcopy(fields))
        return out

    return apply


def _without(name: str) -> Breaker:
    def apply(body: Body, model: Model) -> Body:
        return {k: v for k, v in copy.deepcopy(body).items() if k != name}

    return apply


def _blocks(content: Any) -> list[dict[str, Any]]:
    return content if isinstance(content, list) else []


# -- the checks ---------------------------------------------------------------------------


def _messages_non_empty(body: Body, model: Model, profile: Profile) -> None:
    if not body["messages"]:
        raise ApiError(400, "messages: at least one message is required")


def _max_tokens_cap(body: Body, model: Model, profile: Profile) -> None:
    if body["max_tokens"] > model.max_tokens:
        raise ApiError(
            400,
            f"max_tokens: {body['max_tokens']} > {model.max_tokens}, which is the maximum "
            f"allowed number of output tokens for {model.id}",
        )


def _used_features(body: Body) -> Iterator[str]:
    if (body.get("output_config") or {}).get("effort") is not None:
        yield "output_config.effort"
    if isinstance(body.get("thinking"), dict) and body["thinking"].get("type") == "adaptive":
        yield "thinking.adaptive"


def _supported_params(body: Body, model: Model, profile: Profile) -> None:
    for feature in _used_features(body):
        if feature in model.unsupported:
            raise ApiError(
                profile.unsupported_param_status,
                f"{feature}: this parameter is not supported by model {model.id}",
            )


def _effort_level(body: Body, model: Model, profile: Profile) -> None:
    effort = (body.get("output_config") or {}).get("effort")
    if effort is not None and model.effort and effort not in model.effort:
        raise ApiError(
            400,
            f"This model does not support effort level '{effort}'. "
            f"Supported levels: {', '.join(sorted(model.effort))}.",
        )


def _temperature_top_p(body: Body, model: Model, profile: Profile) -> None:
    if "temperature_top_p_exclusive" in model.quirks and (
        body.get("temperature") is not None and body.get("top_p") is not None
    ):
        raise ApiError(
            400,
            "`temperature` and `top_p` cannot both be specified for this model. "
            "Please use only one.",
        )


def _thinking(body: Body, model: Model, profile: Profile) -> None:
    thinking = body.get("thinking") or {}
    if thinking.get("type") != "enabled":
        return
    if thinking["budget_tokens"] >= body["max_tokens"]:
        raise ApiError(
            400,
            "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
            "documentation at https://docs.claude.com/en/docs/build-with-claude/"
            "extended-thinking#max-tokens-and-context-window-size",
        )
    if body.get("temperature") not in (None, 1, 1.0):
        raise ApiError(
            400,
            "`temperature` may only be set to 1 when thinking is enabled. Please consult our "
            "documentation at https://docs.claude.com/en/docs/build-with-claude/"
            "extended-thinking#feature-compatibility",
        )
    if (body.get("tool_choice") or {}).get("type") in ("any", "tool"):
        raise ApiError(400, "Thinking may not be enabled when tool_choice forces tool use.")


THINKING_FIRST = (
    "Expected `thinking` or `redacted_thinking`, but found `{found}`. When `thinking` is "
    "enabled, a final `assistant` message must start with a thinking block (preceeding the "
    "lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking "
    "blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult "
    "our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
)


def _thinking_tool_loop(body: Body, model: Model, profile: Profile) -> None:
    """With thinking on, the assistant turn a request continues through its tool results must
    open with the thinking that led to its tool use."""
    if (body.get("thinking") or {}).get("type") != "enabled":
        return
    messages = body["messages"]
    last = len(messages) - 1
    if last < 1 or messages[last]["role"] != "user":
        return
    if not any(b["type"] == "tool_result" for b in _blocks(messages[last]["content"])):
        return
    if messages[last - 1]["role"] != "assistant":
        return
    first = last - 1  # consecutive assistant messages are one turn: it starts at the first
    while first > 0 and messages[first - 1]["role"] == "assistant":
        first -= 1
    last = first + 1
    content = messages[first]["content"]
    found = "text" if isinstance(content, str) else (content[0]["type"] if content else "")
    if found and found not in ("thinking", "redacted_thinking"):
        raise ApiError(
            400, f"messages.{last - 1}.content.0.type: " + THINKING_FIRST.format(found=found)
        )


def _tool_choice(body: Body, model: Model, profile: Profile) -> None:
    choice = body.get("tool_choice")
    tools = body.get("tools") or []
    if choice is not None and choice["type"] != "none" and not tools:
        raise ApiError(400, "tool_choice may only be specified while providing tools.")
    if choice is not None and choice["type"] == "tool":
        names = {t.get("name") for t in tools}
        if choice["name"] not in names:
            raise ApiError(400, f"tool_choice.name: Tool '{choice['name']}' not found in tools")


def _unique_tool_names(body: Body, model: Model, profile: Profile) -> None:
    seen: set[str] = set()
    for tool in body.get("tools") or []:
        name = tool.get("name")  # toolsets (`mcp_toolset`, `browser_toolset_*`) have none
        if name in seen:
            raise ApiError(400, "tools: Tool names must be unique.")
        if name is not None:
            seen.add(name)


def _cache_controls(body: Body) -> Iterator[dict[str, Any]]:
    yield from body.get("tools") or []
    yield from _blocks(body.get("system"))
    for message in body["messages"]:
        for block in _blocks(message["content"]):
            yield block
            yield from _blocks(block.get("content")) if block.get("type") == "tool_result" else ()


def _cache_breakpoints(body: Body, model: Model, profile: Profile) -> None:
    if not tokens.mentions(body, b"cache_control"):
        return
    found = sum(1 for item in _cache_controls(body) if item.get("cache_control") is not None)
    if found > MAX_CACHE_BREAKPOINTS:
        raise ApiError(
            400,
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {found}.",
        )


def _is_empty(content: Any) -> bool:
    return isinstance(content, (str, list)) and len(content) == 0


def _system_role(body: Body, model: Model, profile: Profile) -> None:
    if "system_messages" in model.features:
        return
    if any(message["role"] == "system" for message in body["messages"]):
        raise ApiError(
            400,
            'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
            'parameter, not "system" as an input message role.',
        )


def _message_content(body: Body, model: Model, profile: Profile) -> None:
    messages = body["messages"]
    last = len(messages) - 1
    for i, message in enumerate(messages):
        content = message["content"]
        if _is_empty(content) and (message["role"] == "user" or i != last):
            raise ApiError(
                400,
                f"messages.{i}: all messages must have non-empty content except for the "
                "optional final assistant message",
            )
        if _only_blank_text(content):
            raise ApiError(400, "messages: text content blocks must contain non-whitespace text")
    if _only_blank_text(body.get("system"), refuse_empty=False):
        raise ApiError(400, "system: text content blocks must contain non-whitespace text")
    final = messages[-1]
    if final["role"] == "assistant" and _final_text(final["content"]).endswith((" ", "\n", "\t")):
        raise ApiError(400, "messages: final assistant content cannot end with trailing whitespace")


def _only_blank_text(content: Any, refuse_empty: bool = True) -> bool:
    """Blocks that are all whitespace-only text: refused. A blank text block beside a tool
    call or other content is accepted (real traffic shows both). In messages an empty text
    block is refused on its own, first (one walk of the blocks checks both)."""
    blank = isinstance(content, list) and bool(content)
    for block in _blocks(content):
        if block["type"] != "text":
            blank = False
            continue
        text = block["text"]
        if text == "" and refuse_empty:
            raise ApiError(400, "messages: text content blocks must be non-empty")
        blank = blank and text.isspace()
    return blank


def _final_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    blocks = _blocks(content)
    return blocks[-1].get("text", "") if blocks and blocks[-1]["type"] == "text" else ""


def _tool_pairing(body: Body, model: Model, profile: Profile) -> None:
    """One pass: each assistant turn's `tool_use` ids must be answered by `tool_result`
    blocks in the user turn right after it (checked first), and each `tool_result` must
    answer a `tool_use` of the turn right before it. A final assistant turn may call tools
    unanswered."""
    used: list[str] = []  # the tool_use ids of the turn before, if an assistant's
    messages = body["messages"]
    for i, message in enumerate(messages):
        content = message["content"]
        blocks = content if isinstance(content, list) else ()
        if message["role"] == "assistant":
            if i > 0 and messages[i - 1]["role"] == "assistant":
                # consecutive assistant messages are combined into one turn (the SDK's
                # `messages` docstring), so their tool calls are answered together
                used += [b["id"] for b in blocks if b["type"] == "tool_use"]
                continue
            if used:  # an assistant turn right after one that called tools
                _unanswered(i - 1, used, set())
            used = [b["id"] for b in blocks if b["type"] == "tool_use"]
            continue
        results = [
            (j, b["tool_use_id"]) for j, b in enumerate(blocks) if b["type"] == "tool_result"
        ]
        if used:
            _unanswered(i - 1, used, {answered for _, answered in results})
        for j, answered in results:
            if answered not in used:
                raise ApiError(
                    400,
                    f"messages.{i}.content.{j}: unexpected `tool_use_id` found in "
                    f"`tool_result` blocks: {answered}. Each `tool_result` block "
                    "must have a corresponding `tool_use` block in the previous message.",
                )
        used = []


def _unanswered(i: int, used: list[str], answered: set[str]) -> None:
    missing = [u for u in used if u not in answered]
    if missing:
        raise ApiError(
            400,
            f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
            f"immediately after: {', '.join(missing)}. Each `tool_use` block must have "
            "a corresponding `tool_result` block in the next message.",
        )


def check_thread_continuation(body: Body) -> None:
    """A continuation leaves `system` and `tools` out: the thread keeps those of the request
    that created it (docs: Message threads; the SDK's `CREATE_ONLY_FIELDS`)."""
    thread = body.get("thread")
    if not isinstance(thread, dict) or thread.get("type") != "continue":
        return
    for name in ("tools", "system"):
        if name in body:
            raise ApiError(
                400,
                f"{name}: a request that continues a thread cannot set `{name}`: the thread "
                f"keeps the `{name}` of the request that created it. Leave `{name}` out, or "
                'replay the full conversation with `thread: {"type": "create"}` to change it.',
            )


def _thread_continuation(body: Body, model: Model, profile: Profile) -> None:
    check_thread_continuation(body)


def _context_window(body: Body, model: Model, profile: Profile) -> None:
    size = tokens.input_tokens(body)
    if size > model.context_window:
        raise ApiError(400, f"prompt is too long: {size} tokens > {model.context_window} maximum")


# -- how to break each rule, for docs and strategies -------------------------------------

_TOOL = {"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}


def _tool_turns(*result_ids: str) -> Breaker:
    return _with(
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": rid, "content": "18C"}
                    for rid in result_ids
                ],
            },
        ],
        tools=[_TOOL],
    )


def _thinking_loop_without_thinking(body: Body, model: Model) -> Body:
    out = _tool_turns("toolu_01A")(body, model)
    out.update(max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 2000})
    return out


def _cache_many(body: Body, model: Model) -> Body:
    out = copy.deepcopy(body)
    cc = {"type": "ephemeral"}
    out["system"] = [{"type": "text", "text": f"part {i}", "cache_control": cc} for i in range(5)]
    return out


def _huge_prompt(body: Body, model: Model) -> Body:
    out = copy.deepcopy(body)
    out["messages"] = [{"role": "user", "content": "word " * (model.context_window * 17 // 20)}]
    return out


def _over_cap(body: Body, model: Model) -> Body:
    return {**copy.deepcopy(body), "max_tokens": model.max_tokens + 1}


def _unsupported(body: Body, model: Model) -> Body:
    out = copy.deepcopy(body)
    if "output_config.effort" in model.unsupported:
        out["output_config"] = {"effort": "low"}
    else:
        out["thinking"] = {"type": "adaptive"}
    return out


def _has_quirk(quirk: str) -> Callable[[Model], bool]:
    return lambda model: quirk in model.quirks


def _fallback_credit_token(body: Body, model: Model, profile: Profile) -> None:
    """A token is redeemable only if a refusal minted it (the SDK's `fallback_credit_token`
    docstring: "a mismatch is a 400"). The fake mints none, so any token it is handed is one
    it cannot have issued: refused as the API words a token it cannot read."""
    if body.get("fallback_credit_token") is not None:
        raise ApiError(400, "fallback_credit_token: invalid or malformed")


RULES: tuple[ContractRule, ...] = (
    ContractRule(
        "messages_non_empty", "at least one message", _messages_non_empty, _with(messages=[])
    ),
    ContractRule("max_tokens_cap", "max_tokens within the model's cap", _max_tokens_cap, _over_cap),
    ContractRule(
        "supported_params",
        "parameters the model supports (422 on the gateway)",
        _supported_params,
        _unsupported,
        lambda model: bool(model.unsupported),
    ),
    ContractRule(
        "effort_level",
        "effort levels the model takes",
        _effort_level,
        _with(output_config={"effort": "xhigh"}),
        lambda model: bool(model.effort) and "xhigh" not in model.effort,
    ),
    ContractRule(
        "temperature_top_p",
        "temperature and top_p not both set",
        _temperature_top_p,
        _with(temperature=0.5, top_p=0.9),
        _has_quirk("temperature_top_p_exclusive"),
    ),
    ContractRule(
        "thinking_budget_below_max_tokens",
        "thinking budget below max_tokens",
        _thinking,
        _with(max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 4000}),
    ),
    ContractRule(
        "thinking_temperature",
        "temperature 1 when thinking",
        _thinking,
        _with(
            max_tokens=4000, temperature=0.2, thinking={"type": "enabled", "budget_tokens": 2000}
        ),
    ),
    ContractRule(
        "thinking_forced_tool",
        "no forced tool use with thinking",
        _thinking,
        _with(
            max_tokens=4000,
            thinking={"type": "enabled", "budget_tokens": 2000},
            tools=[_TOOL],
            tool_choice={"type": "any"},
        ),
    ),
    ContractRule(
        "thinking_tool_loop",
        "with thinking, a tool loop's assistant turn starts with its thinking",
        _thinking_tool_loop,
        _thinking_loop_without_thinking,
    ),
    ContractRule(
        "tool_choice_needs_tools",
        "tool_choice only with tools",
        _tool_choice,
        _with(tool_choice={"type": "any"}),
    ),
    ContractRule(
        "tool_choice_known_tool",
        "tool_choice names a provided tool",
        _tool_choice,
        _with(tools=[_TOOL], tool_choice={"type": "tool", "name": "get_time"}),
    ),
    ContractRule(
        "unique_tool_names",
        "tool names are unique",
        _unique_tool_names,
        _with(tools=[_TOOL, _TOOL]),
    ),
    ContractRule(
        "cache_breakpoints", "at most 4 cache_control blocks", _cache_breakpoints, _cache_many
    ),
    ContractRule(
        "system_role",
        'role "system" turns only on models that take them',
        _system_role,
        _with(messages=[{"role": "system", "content": "Hi"}]),
        lambda model: "system_messages" not in model.features,
    ),
    ContractRule(
        "user_content_non_empty",
        "messages have content (but a final assistant turn)",
        _message_content,
        _with(messages=[{"role": "user", "content": ""}]),
    ),
    ContractRule(
        "text_blocks_non_empty",
        "text blocks are non-empty",
        _message_content,
        _with(messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}]),
    ),
    ContractRule(
        "text_blocks_not_blank",
        "text blocks hold more than whitespace",
        _message_content,
        _with(messages=[{"role": "user", "content": [{"type": "text", "text": " \n"}]}]),
    ),
    ContractRule(
        "prefill_no_trailing_whitespace",
        "a final assistant prefill does not end in whitespace",
        _message_content,
        _with(
            messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello "}]
        ),
    ),
    ContractRule(
        "tool_use_has_result",
        "every tool_use is answered by a tool_result",
        _tool_pairing,
        _with(
            tools=[_TOOL],
            messages=[
                {"role": "user", "content": "Weather in Paris?"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {}}
                    ],
                },
                {"role": "user", "content": "Never mind."},
            ],
        ),
    ),
    ContractRule(
        "tool_result_has_use",
        "every tool_result answers a tool_use",
        _tool_pairing,
        _tool_turns("toolu_01A", "toolu_01B"),
    ),
    ContractRule(
        "context_window", "the prompt fits the context window", _context_window, _huge_prompt
    ),
    ContractRule(
        "thread_continuation_without_tools",
        "a thread continuation leaves tools and system to the thread",
        _thread_continuation,
        _with(tools=[_TOOL], thread={"type": "continue", "previous_message_id": "msg_01Thread"}),
    ),
    ContractRule(
        "fallback_credit_minted",
        "a fallback_credit_token was minted by a refusal",
        _fallback_credit_token,
        _with(fallback_credit_token="fct_not_minted"),
    ),
)

#: Rules the JSON Schema and the catalog enforce; listed so docs and strategies cover them too.
SCHEMA_CASES: tuple[ContractRule, ...] = (
    ContractRule("known_model", "the model exists", None, _with(model="claude-nonexistent-1")),
    ContractRule("field_required", "required fields present", None, _without("max_tokens")),
    ContractRule("extra_field", "no unknown fields", None, _with(temprature=0.5)),
    ContractRule("wrong_type", "fields have the right type", None, _with(max_tokens="1024")),
    ContractRule("max_tokens_min", "max_tokens at least 0", None, _with(max_tokens=-1)),
    ContractRule("temperature_range", "temperature in 0..1", None, _with(temperature=1.5)),
    ContractRule(
        "tool_name_pattern",
        "tool names match ^[a-zA-Z0-9_-]{1,128}$",
        None,
        _with(tools=[{"name": "get weather", "input_schema": {"type": "object"}}]),
    ),
    ContractRule(
        "role_enum",
        "roles are user, assistant or system",
        None,
        _with(messages=[{"role": "tool", "content": "Hi"}]),
    ),
    ContractRule(
        "block_type",
        "content blocks have a known type",
        None,
        _with(messages=[{"role": "user", "content": [{"type": "audio", "data": "x"}]}]),
    ),
    ContractRule(
        "image_media_type",
        "image media types are jpeg, png, gif or webp",
        None,
        _with(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/bmp", "data": "AAAA"},
                        }
                    ],
                }
            ]
        ),
    ),
    ContractRule(
        "thinking_budget_min",
        "thinking budget at least 1024",
        None,
        _with(max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 512}),
    ),
)


#: Each check once, in rule order (several rules share a check).
_CHECKS = tuple(dict.fromkeys(rule.check for rule in RULES if rule.check is not None))


def check_rules(
    body: Body, model: Model, profile: Profile, betas: frozenset[str] = frozenset()
) -> None:
    """Run every semantic rule in order; the first broken one answers. `betas`: the values
    of the request's `anthropic-beta` header (some widen a model's limits)."""
    if "context_1m" in model.features and betas & _betas.context_1m():
        model = dataclasses.replace(model, context_window=CONTEXT_1M)
    for check in _CHECKS:
        check(body, model, profile)
