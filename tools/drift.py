"""What the newest SDKs know that the fake does not, read from the SDKs' own types.

    python -m tools.drift [--typescript node_modules/@anthropic-ai/sdk]

`nox -s drift` installs the newest `anthropic` (and, where npm exists, the newest
`@anthropic-ai/sdk`) and runs this. It lists, from the SDKs' types and code:

- models the SDK names that the `anthropic` profile does not serve (or serves as retired),
  models the SDK dropped or deprecates that the fake still serves as active;
- beta names the SDK lists, and the ones its code adds to the header by itself;
- request fields, block types, tool types and their fields the request schema lacks;
- reply fields (of `Message`, `Usage`, the content blocks and the stream events, GA and beta)
  that `contract/schemas/responses.json` lacks.

It exits 1 with the list when anything is missing, 0 when nothing is. The comparisons are
plain functions over `SdkFacts` and `FakeFacts`, so a test can hide one model or beta from
the fake's data and see it reported."""

from __future__ import annotations

import argparse
import json
import re
import sys
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import typing_extensions as te

BETA_NAME = re.compile(r"""['"]([a-z][a-z0-9-]*-20\d\d-\d\d-\d\d)['"]""")
"""A beta header value in source code: `'structured-outputs-2025-12-15'`."""

RESPONSES_REF = "#/components/schemas/"


@dataclass(frozen=True, order=True)
class Gap:
    """One thing an SDK knows that the fake does not."""

    kind: str
    name: str
    why: str

    def line(self) -> str:
        return f"  {self.name}: {self.why}"


@dataclass
class SdkFacts:
    """What one SDK release says about models and betas."""

    source: str
    models: list[str]
    betas: list[str]
    sent_betas: list[str] = field(default_factory=list)
    """Betas the SDK's own code puts into `anthropic-beta` (not only its type's list)."""
    deprecated: dict[str, str] = field(default_factory=dict)
    """Model -> end-of-life date, from the SDK's deprecation warning table."""


@dataclass
class FakeFacts:
    """What the fake serves and accepts, from its data files."""

    models: dict[str, tuple[tuple[str, ...], str]]
    """Model id -> (aliases, lifecycle) on the `anthropic` profile."""
    betas: frozenset[str]
    request_schema: dict[str, Any]
    responses: dict[str, Any]

    @classmethod
    def load(cls) -> FakeFacts:
        from mockspike.contract import betas
        from mockspike.contract.catalog import load_profile
        from mockspike.contract.validate import message_schema

        text = resources.files("mockspike.contract").joinpath("schemas/responses.json")
        return cls(
            models={
                m.id: (m.aliases, m.lifecycle)
                for m in (*load_profile("anthropic").models, *load_profile("anthropic").retired)
            },
            betas=betas.known(),
            request_schema=message_schema(),
            responses=json.loads(text.read_text("utf-8")),
        )


# -- reading the SDKs ----------------------------------------------------------------------


def literals(tp: Any) -> list[str]:
    """The string literals of a `Union[Literal[...], str]` alias, in order."""
    out: list[str] = []
    if typing.get_origin(tp) in (typing.Literal, te.Literal):
        return [str(v) for v in typing.get_args(tp)]
    for member in typing.get_args(tp):
        if typing.get_origin(member) in (typing.Literal, te.Literal):
            out.extend(str(v) for v in typing.get_args(member))
    return out


def sent_betas(files: Iterable[Path]) -> list[str]:
    """Beta names written on a line that speaks of betas (`DEFAULT_BETAS = [...]`,
    `'anthropic-beta': [..., 'structured-outputs-2025-12-15']`)."""
    found: dict[str, None] = {}
    for path in files:
        for line in path.read_text("utf-8", "replace").splitlines():
            if "beta" in line.lower():
                found.update(dict.fromkeys(BETA_NAME.findall(line)))
    return list(found)


def python_sdk() -> SdkFacts:
    """The installed `anthropic` package."""
    import anthropic
    from anthropic.types.anthropic_beta_param import AnthropicBetaParam
    from anthropic.types.model_param import ModelParam

    root = Path(anthropic.__file__).parent
    code = [p for p in root.rglob("*.py") if "types" not in p.relative_to(root).parts]
    try:
        from anthropic._data import DEPRECATED_MODELS as deprecated
    except ImportError:  # older SDKs keep no table
        deprecated = {}
    return SdkFacts(
        source=f"anthropic {anthropic.__version__}",
        models=literals(ModelParam),
        betas=literals(AnthropicBetaParam),
        sent_betas=sent_betas(code),
        deprecated=dict(deprecated),
    )


def _ts_union(text: str, name: str) -> list[str]:
    found = re.search(rf"export type {name} = (.*?);", text, re.S)
    return re.findall(r"'([^']+)'", found.group(1)) if found else []


def typescript_sdk(root: Path) -> SdkFacts:
    """An installed `@anthropic-ai/sdk` (its folder under node_modules), from its `.d.ts`
    files and compiled code."""
    package = json.loads((root / "package.json").read_text("utf-8"))
    messages = (root / "resources/messages/messages.d.ts").read_text("utf-8")
    beta = (root / "resources/beta/beta.d.ts").read_text("utf-8")
    deprecated: dict[str, str] = {}
    table = root / "internal/data/deprecated-models.js"
    if table.exists():
        deprecated = dict(re.findall(r"'([^']+)':\s*'([^']+)'", table.read_text("utf-8")))
    code = [p for p in root.rglob("*.js") if "node_modules" not in p.relative_to(root).parts]
    return SdkFacts(
        source=f"@anthropic-ai/sdk {package['version']}",
        models=_ts_union(messages, "Model"),
        betas=_ts_union(beta, "AnthropicBeta"),
        sent_betas=sent_betas(code),
        deprecated=deprecated,
    )


# -- what the fake lacks -------------------------------------------------------------------


def model_gaps(sdk: SdkFacts, fake: FakeFacts) -> list[Gap]:
    """Models the SDK names that the fake does not serve, and models the fake serves as
    active that the SDK dropped or deprecates."""
    life = {name: lc for id_, (aliases, lc) in fake.models.items() for name in (id_, *aliases)}
    gaps = []
    for name in sdk.models:
        if name not in life:
            gaps.append(Gap("model", name, f"{sdk.source} lists it; the fake does not serve it"))
        elif life[name] == "retired":
            gaps.append(Gap("model", name, f"{sdk.source} lists it; the fake has it retired"))
    listed = set(sdk.models)
    for id_, (aliases, lc) in fake.models.items():
        names = {id_, *aliases}
        if lc == "active" and not names & listed:
            why = f"{sdk.source} no longer lists it; the fake serves it as active"
            gaps.append(Gap("model", id_, why))
        ending = sorted(n for n in names if n in sdk.deprecated)
        if lc == "active" and ending:
            eol = sdk.deprecated[ending[0]]
            why = f"{sdk.source} deprecates it (end of life {eol}); the fake serves it as active"
            gaps.append(Gap("model", id_, why))
    return gaps


def beta_gaps(sdk: SdkFacts, fake: FakeFacts) -> list[Gap]:
    """Beta names the SDK lists or sends that the fake refuses."""
    gaps = [
        Gap("beta", b, f"in {sdk.source}'s beta list; the fake refuses it")
        for b in dict.fromkeys(sdk.betas)
        if b not in fake.betas
    ]
    gaps += [
        Gap("beta", b, f"{sdk.source} sends it by itself; the fake refuses it")
        for b in dict.fromkeys(sdk.sent_betas)
        if b not in fake.betas and b not in sdk.betas
    ]
    return gaps


def request_classes(roots: list[Any]) -> dict[Any, str]:
    """Every TypedDict a request can reach from `roots`, with the path it is first met at."""
    from tools import surface

    found: dict[Any, str] = {}

    def visit(tp: Any, path: str) -> None:
        for member in surface._members(tp):
            if te.is_typeddict(member):
                if member in found:
                    continue
                found[member] = path
                for name, (field_tp, _) in surface.fields(member).items():
                    visit(field_tp, f"{path}.{name}")
            else:
                for arg in typing.get_args(member):
                    visit(arg, path)

    for root in roots:
        for name, (tp, _) in surface.fields(root).items():
            if name not in surface.HEADER_FIELDS:
                visit(tp, name)
    return found


def request_gaps(schema: dict[str, Any]) -> list[Gap]:
    """Top-level fields, block and tool types, and their fields, that the installed SDK can
    send and the request schema does not know."""
    from tools import surface

    roots = surface.sdk_roots()
    gaps = []
    for kind, group in roots.items():
        known = schema["properties"] if kind == "messages" else schema["x-count-tokens"]
        for root in group:
            for name in surface.fields(root):
                if name not in surface.HEADER_FIELDS and name not in known:
                    gaps.append(Gap("request", f"{kind}.{name}", f"{root.__qualname__} sends it"))
        for cls, path in request_classes(group).items():
            def_name = "message" if "role" in surface.fields(cls) else surface._def_name(cls)
            def_name = schema.get("x-merged", {}).get(def_name, def_name)
            definition = schema["$defs"].get(def_name)
            where = f"{cls.__qualname__} at {path}"
            if definition is None:
                gaps.append(Gap("request", def_name, f"no definition for {where}"))
                continue
            if definition.get("additionalProperties") is not False:
                continue  # free-form (a tool's input_schema)
            props = definition["properties"]
            gaps += [
                Gap("request", f"{def_name}.{f}", f"{where} has the field")
                for f in surface.fields(cls)
                if f not in props
            ]
            tags, _ = surface.tag_values(cls)
            allowed = props.get("type", {}).get("enum", tags)
            gaps += [
                Gap("request", f"{def_name} type `{t}`", where) for t in tags if t not in allowed
            ]
    return sorted(set(gaps))


# -- replies -------------------------------------------------------------------------------


def _models_in(tp: Any) -> list[Any]:
    """The pydantic models a field's annotation can hold (through Optional, List, Union,
    Annotated)."""
    from pydantic import BaseModel

    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    out: list[Any] = []
    for arg in typing.get_args(tp):
        out += [m for m in _models_in(arg) if m not in out]
    return out


def _values(tp: Any) -> list[str]:
    """The literal values an annotation allows (through Optional and Annotated)."""
    if typing.get_origin(tp) in (typing.Literal, te.Literal):
        return [str(v) for v in typing.get_args(tp)]
    return [v for arg in typing.get_args(tp) for v in _values(arg)]


def _tag(cls: Any) -> str | None:
    info = cls.model_fields.get("type")
    values = literals(info.annotation) if info is not None else []
    return values[0] if len(values) == 1 else None


class ReplyWalker:
    """Walks an SDK response model beside its schema in responses.json, noting each field
    and each tagged member (block type, delta type, event type) the schema lacks."""

    def __init__(self, responses: dict[str, Any], source: str) -> None:
        self.responses = responses
        self.source = source
        self.gaps: list[Gap] = []
        self._seen: set[tuple[Any, int]] = set()

    def missing_field(self, cls: Any, name: str, props: dict[str, Any], where: str) -> None:
        key = cls.model_fields[name].alias or name
        why = f"{self.source}: {cls.__name__}.{name}"
        self.gaps.append(Gap("reply", f"{where}.{key}", why))

    def missing_tag(self, cls: Any, tag: str, branches: list[dict[str, Any]], where: str) -> None:
        self.gaps.append(Gap("reply", f"{where} type `{tag}`", f"{self.source}: {cls.__name__}"))

    def missing_value(
        self, cls: Any, name: str, value: str, allowed: list[Any], where: str
    ) -> None:
        why = f"{self.source}: {cls.__name__}.{name}"
        self.gaps.append(Gap("reply", f"{where}.{name} value `{value}`", why))

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.responses[node["$ref"].removeprefix(RESPONSES_REF)]
        return node

    def branches(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        """The object schemas a node allows: itself, its array's items, its `oneOf`s."""
        node = self.resolve(node)
        kinds = node.get("type", [])
        if "array" in (kinds if isinstance(kinds, list) else [kinds]) and "items" in node:
            return self.branches(node["items"])
        if "discriminator" in node:
            return [node]
        alternatives = node.get("oneOf", node.get("anyOf"))
        if alternatives:
            return [b for alt in alternatives for b in self.branches(alt)]
        return [node]

    def models(self, classes: list[Any], node: dict[str, Any], where: str) -> None:
        branches = self.branches(node)
        tagged: dict[str, dict[str, Any]] = {}
        for branch in branches:
            mapping = branch.get("discriminator", {}).get("mapping", {})
            tagged.update({tag: {"$ref": ref} for tag, ref in mapping.items()})
            const = branch.get("properties", {}).get("type", {}).get("const")
            if const is not None:
                tagged[const] = branch
        for cls in classes:
            tag = _tag(cls)
            if tag is None or (not tagged and len(branches) == 1):
                self.model(cls, branches[0], where)
            elif tag not in tagged:
                self.missing_tag(cls, tag, branches, where)
            else:
                self.model(cls, tagged[tag], f"{where}[{tag}]")

    def model(self, cls: Any, node: dict[str, Any], where: str) -> None:
        node = self.resolve(node)
        key = (cls, id(node))
        if key in self._seen:
            return
        self._seen.add(key)
        props = node.get("properties")
        if props is None or node.get("additionalProperties") is True:
            return  # free-form in the schema (a tool's input)
        for field_name, info in cls.model_fields.items():
            name = info.alias or field_name  # the JSON key (`from` for `from_`)
            if name not in props:
                self.missing_field(cls, field_name, props, where)
                continue
            inner = _models_in(info.annotation)
            if inner:
                self.models(inner, props[name], f"{where}.{name}")
            allowed = self.resolve(props[name]).get("enum")
            if allowed is not None and name != "type":
                for value in _values(info.annotation):
                    if value not in allowed:
                        self.missing_value(cls, name, value, allowed, where)


def reply_gaps(responses: dict[str, Any]) -> list[Gap]:
    """Fields of the installed SDK's response types that responses.json does not describe."""
    import anthropic
    from anthropic.types import Message, RawMessageStreamEvent
    from anthropic.types.beta import BetaMessage, BetaRawMessageStreamEvent

    walker = ReplyWalker(responses, f"anthropic {anthropic.__version__}")
    walker.model(Message, {"$ref": RESPONSES_REF + "Message"}, "Message")
    walker.model(BetaMessage, {"$ref": RESPONSES_REF + "Message"}, "Message")
    if "StreamEvent" not in responses:
        walker.gaps.append(Gap("reply", "StreamEvent", "responses.json has no stream events"))
    else:
        events = _models_in(RawMessageStreamEvent) + _models_in(BetaRawMessageStreamEvent)
        walker.models(events, {"$ref": RESPONSES_REF + "StreamEvent"}, "event")
    return sorted(set(walker.gaps))


# -- the command ---------------------------------------------------------------------------


def all_gaps(sdks: list[SdkFacts], fake: FakeFacts, with_types: bool = True) -> list[Gap]:
    """Every gap: models and betas of each SDK, and (from the installed Python SDK's types)
    the request and reply surfaces."""
    gaps: list[Gap] = []
    for sdk in sdks:
        gaps += model_gaps(sdk, fake) + beta_gaps(sdk, fake)
    if with_types:
        gaps += request_gaps(fake.request_schema) + reply_gaps(fake.responses)
    return gaps


HEADINGS = {
    "model": "Models (contract/models.json, contract/profiles/anthropic.json)",
    "beta": "Beta names (contract/betas.json)",
    "request": "Request surface (python -m tools.regenerate rewrites schemas/messages.json)",
    "reply": "Reply fields (contract/schemas/responses.json)",
}


def report(gaps: list[Gap], sources: list[str]) -> str:
    """The readable list (or one line saying nothing is missing)."""
    against = ", ".join(sources)
    if not gaps:
        return f"drift: nothing missing against {against}."
    lines = [f"drift: the fake lacks {len(gaps)} thing(s) that {against} know(s):"]
    for kind, heading in HEADINGS.items():
        mine = [g for g in gaps if g.kind == kind]
        if mine:
            lines += ["", f"{heading}:", *(g.line() for g in mine)]
    return "\n".join(lines)


def _sdks(typescript: Path | None) -> Iterator[SdkFacts]:
    yield python_sdk()
    if typescript is not None:
        yield typescript_sdk(typescript)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.drift", description=__doc__)
    parser.add_argument(
        "--typescript",
        type=Path,
        help="an installed @anthropic-ai/sdk (node_modules/@anthropic-ai/sdk) to read too",
    )
    args = parser.parse_args(argv)
    sdks = list(_sdks(args.typescript))
    gaps = all_gaps(sdks, FakeFacts.load())
    print(report(gaps, [s.source for s in sdks]))
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main())
