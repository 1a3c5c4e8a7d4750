"""Replies built from the request: `{{ … }}` in a script file's reply text, tool input and
failure message, rendered for each request it answers.

Templates are Jinja2 expressions, checked when the script is loaded and run in Jinja2's
sandbox: they may name only the request's values below, read their fields and items, and
use a short list of filters. A call, an attribute starting with `_`, an import or include,
or any other name is refused at load, naming the rule; a field the request does not have is
refused when answering, in a 500 that names the rule (the SDKs do not retry it). Output is
bounded (`MAX_OUTPUT` characters a template).

| name | value |
|---|---|
| `text` | the last user turn's text (its text blocks joined by newlines) |
| `model` | the request's `model` |
| `body` | the whole request body: `body.metadata.user_id`, `body.messages[0].content` |
| `headers` | the request's headers, lower-case names (`headers["x-ticket"]`; secrets redacted) |
| `tools` | the names of the tools the request offered |
| `tool_use_ids` | the ids of the `tool_result` blocks in the last user turn |
| `count` | how many times this rule has answered, this answer included (1, 2, …) |
| `state` | the rule's scenario state when it matched (None outside a scenario) |
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from mockspike.model.faults import Failure
from mockspike.model.outcomes import Reply
from mockspike.model.tokens import content_tokens

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

NAMES = ("text", "model", "body", "headers", "tools", "tool_use_ids", "count", "state")
FILTERS = (
    "default", "lower", "upper", "title", "capitalize", "trim", "replace", "truncate",
    "length", "join", "first", "last", "tojson", "string", "int", "float", "round", "abs",
    "wordcount", "sort", "unique", "reverse", "list", "min", "max", "sum",
)  # fmt: skip
TESTS = ("defined", "undefined", "none", "string", "number", "mapping", "sequence", "in")
MAX_OUTPUT = 65_536
"""Characters one template may produce."""
SECRET_HEADERS = frozenset({"x-api-key", "authorization", "cookie", "proxy-authorization"})


@cache
def _allowed() -> tuple[type[nodes.Node], ...]:
    """Jinja2 node types a template may hold: output, literals, names, field and item
    access, filters and tests, conditions and loops; no calls, assignments, macros or
    imports. (Jinja2 is imported on first use: a fake without templates never loads it.)"""
    from jinja2 import nodes

    return (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Const, nodes.Name,
    nodes.Getattr, nodes.Getitem, nodes.Slice, nodes.Filter, nodes.Test, nodes.If,
    nodes.For, nodes.CondExpr, nodes.Compare, nodes.Operand, nodes.And, nodes.Or,
    nodes.Not, nodes.Neg, nodes.Pos, nodes.Concat, nodes.List, nodes.Tuple, nodes.Dict,
    nodes.Pair, nodes.Add, nodes.Sub, nodes.Div, nodes.FloorDiv, nodes.Mod,
    nodes.Keyword,
    )  # fmt: skip


class TemplateError(ValueError):
    """A template that reaches beyond the request, or one the request cannot fill."""


@cache
def _env() -> ImmutableSandboxedEnvironment:
    from jinja2 import StrictUndefined, Undefined, pass_eval_context
    from jinja2.runtime import LoopContext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Env(ImmutableSandboxedEnvironment):
        """`a.b` reads the item `b` of a mapping and nothing else: a template sees the
        request's values, never a method or attribute of the objects holding them."""

        def getattr(self, obj: Any, attribute: str) -> Any:
            if isinstance(obj, Mapping) and attribute in obj:
                return obj[attribute]
            if isinstance(obj, LoopContext):  # loop.index, loop.first, …
                return super().getattr(obj, attribute)
            if isinstance(obj, Undefined):  # the first missing field is the one to name
                return obj
            return self.undefined(obj=obj, name=attribute)

    env = Env(undefined=StrictUndefined, autoescape=False)
    plain_replace, plain_join = env.filters["replace"], env.filters["join"]

    @pass_eval_context
    def replace(ctx: Any, value: Any, old: Any, new: Any, count: int | None = None) -> Any:
        text, old, new = str(value), str(old), str(new)
        grows = max(0, len(new) - len(old)) * (text.count(old) if old else len(text) + 1)
        _bounded(len(text) + grows, "replace")
        return plain_replace(ctx, text, old, new, count)

    @pass_eval_context
    def join(ctx: Any, value: Any, d: Any = "", attribute: Any = None) -> Any:
        items = list(value)
        _bounded(sum(len(str(i)) for i in items) + len(str(d)) * len(items), "join")
        return plain_join(ctx, items, d, attribute)

    env.filters.update(replace=replace, join=join)
    return env


def _bounded(size: int, what: str) -> None:
    """Filters that can multiply the request's size are stopped before they do."""
    if size > MAX_OUTPUT:
        raise TemplateError(f"{what} would make more than {MAX_OUTPUT} characters")


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


@dataclass(frozen=True)
class Template:
    """One checked template string."""

    source: str

    def __post_init__(self) -> None:
        from jinja2 import TemplateSyntaxError, nodes

        try:
            tree = _env().parse(self.source)
        except TemplateSyntaxError as exc:
            raise TemplateError(f"template {self.source!r}: {exc.message}") from None
        targets = [n for f in tree.find_all(nodes.For) for n in _walk(f.target)]
        loops = {n.name for n in targets if isinstance(n, nodes.Name)}
        for node in _walk(tree):
            problem = _problem(node, loops)
            if problem:
                raise TemplateError(f"template {self.source!r}: {problem}")

    def render(self, context: Mapping[str, Any]) -> str:
        from jinja2.exceptions import SecurityError, UndefinedError

        compiled = _compiled(self.source)
        out: list[str] = []
        size = 0
        try:
            for piece in compiled.generate(**context):
                size += len(piece)
                if size > MAX_OUTPUT:
                    raise TemplateError(
                        f"template {self.source!r} makes more than {MAX_OUTPUT} characters"
                    )
                out.append(piece)
        except (UndefinedError, SecurityError, TypeError, ValueError) as exc:
            if isinstance(exc, TemplateError):
                raise
            raise TemplateError(f"template {self.source!r}: {exc}") from None
        return "".join(out)


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Any:
    """Compiled once per template text (bounded: `--watch` reloads bring new texts)."""
    return _env().from_string(source)


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _problem(node: nodes.Node, loops: set[str]) -> str | None:
    from jinja2 import nodes

    if not isinstance(node, _allowed()):
        return f"{type(node).__name__.lower()} is not allowed (only the request's values)"
    names = (*NAMES, *loops, "loop") if loops else NAMES
    if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in names:
        return f"unknown name {node.name!r}; the names are {', '.join(NAMES)}"
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return f"attribute {node.attr!r} is not allowed"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        key = node.arg.value
        if isinstance(key, str) and key.startswith("_"):
            return f"item {key!r} is not allowed"
    if isinstance(node, nodes.Filter) and node.name not in FILTERS:
        return f"unknown filter {node.name!r}; filters are {', '.join(FILTERS)}"
    if isinstance(node, nodes.Test) and node.name not in TESTS:
        return f"unknown test {node.name!r}; tests are {', '.join(TESTS)}"
    return None


def context(
    body: Mapping[str, Any], headers: Mapping[str, str], count: int, state: str | None
) -> dict[str, Any]:
    """The values a template may name, for one request."""
    last_user = next(
        (m for m in reversed(body.get("messages") or []) if m.get("role") == "user"), None
    )
    content = last_user.get("content", "") if isinstance(last_user, dict) else ""
    blocks = content if isinstance(content, list) else []
    text = (
        content
        if isinstance(content, str)
        else "\n".join(b.get("text", "") for b in blocks if b.get("type") == "text")
    )
    return {
        "text": text,
        "model": body.get("model"),
        "body": body,
        "headers": {
            k.lower(): ("[redacted]" if k.lower() in SECRET_HEADERS else v)
            for k, v in headers.items()
        },
        "tools": [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)],
        "tool_use_ids": [b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"],
        "count": count,
        "state": state,
    }


Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Templated:
    """A scripted reply or failure with templates at some of its places, rendered for each
    request; `tokens_given`: the script fixed `usage.output_tokens` (else recounted)."""

    response: Reply | Failure
    templates: tuple[tuple[Path, Template], ...]
    tokens_given: bool = False

    def render(self, values: Mapping[str, Any]) -> Reply | Failure:
        if isinstance(self.response, Failure):
            ((_, template),) = self.templates
            return dataclasses.replace(self.response, message=template.render(values))
        content = _copy(self.response.content)
        for path, template in self.templates:
            _set(content, path, template.render(values))
        tokens = self.response.output_tokens
        if not self.tokens_given:
            tokens = max(1, content_tokens(content))
        return dataclasses.replace(self.response, content=content, output_tokens=tokens)


def find(value: Any, path: Path = ()) -> list[tuple[Path, Template]]:
    """Every template string inside `value` (a JSON-like tree), with its path."""
    if isinstance(value, str):
        return [(path, Template(value))] if is_template(value) else []
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in find(v, (*path, k))]
    if isinstance(value, list):
        return [found for i, v in enumerate(value) for found in find(v, (*path, i))]
    return []


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _set(tree: Any, path: Path, value: str) -> None:
    for key in path[:-1]:
        tree = tree[key]
    tree[path[-1]] = value
