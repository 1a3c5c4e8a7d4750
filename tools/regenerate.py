"""Rewrite every data file the SDK is the source of, from the installed `anthropic`:

    python -m tools.regenerate          # or: nox -s regenerate
    python -m tools.regenerate --check  # exit 1, naming the files, if any would change

- `contract/schemas/messages.json`: the request schema (`tools/surface.py`; it only
  grows, so running it under each SDK generation keeps what the older one typed);
- `contract/betas.json` `sdk`: the SDK's `AnthropicBetaParam` list, in its order (values only
  the SDK's list had before are kept: the API does not forget a beta name);
- `contract/models.json`: the lifecycle of models the SDK's deprecation table names
  (`deprecated`, and `retires_at` from its end-of-life date), unless the catalog already
  says `retired`;
- `contract/schemas/responses.json`: every field and block of the SDK's response types the
  schema lacks, added with the SDK's types (hand-written constraints are kept).

What the SDK does not carry (prices, context windows, output caps, retirement of models it
dropped, error wording) stays hand-written in those files, each fact's source in
docs/contract.md. `tests/test_regenerate.py` checks that the checked-in files are what this
writes from the locked SDK."""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import re
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typing_extensions as te

from tools.drift import RESPONSES_REF, ReplyWalker, _models_in, _tag, literals

CONTRACT = Path(__file__).resolve().parents[1] / "mockspike" / "contract"


def dumps(data: Any) -> str:
    """The data files' one layout."""
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


# -- the request schema ----------------------------------------------------------------------


def request_schema(old: dict[str, Any]) -> dict[str, Any]:
    from tools import surface

    return surface.combine(old, surface.build())


# -- betas -----------------------------------------------------------------------------------


def betas(old: dict[str, Any]) -> dict[str, Any]:
    from anthropic.types.anthropic_beta_param import AnthropicBetaParam

    listed = literals(AnthropicBetaParam)
    out = dict(old)
    out["sdk"] = listed + [b for b in old["sdk"] if b not in listed]
    out["clients"] = sorted(b for b in old["clients"] if b not in listed)
    return out


# -- models ----------------------------------------------------------------------------------

MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june",
                                      "july", "august", "september", "october", "november",
                                      "december"), 1)}  # fmt: skip


def eol_date(text: str) -> str:
    """`January 22nd, 2027` (the SDK's wording) -> `2027-01-22T00:00:00Z`."""
    found = re.fullmatch(r"([A-Za-z]+) (\d+)(?:st|nd|rd|th)?, (\d{4})", text.strip())
    if found is None:
        raise ValueError(f"cannot read the end-of-life date {text!r}")
    month, day, year = found.groups()
    return dt.date(int(year), MONTHS[month.lower()], int(day)).isoformat() + "T00:00:00Z"


def models(old: dict[str, Any]) -> dict[str, Any]:
    try:
        from anthropic._data import DEPRECATED_MODELS as table
    except ImportError:  # older SDKs keep no table
        table = {}
    out = copy.deepcopy(old)
    for model in out["models"]:
        names = [model["id"], *model["aliases"]]
        ending = [table[n] for n in names if n in table]
        if ending and model.get("lifecycle", "active") != "retired":
            model["lifecycle"] = "deprecated"
            model["retires_at"] = eol_date(ending[0])
    return out


# -- reply schema ----------------------------------------------------------------------------

SCALARS: dict[Any, str] = {str: "string", bool: "boolean", int: "integer", float: "number"}


def schema_of(tp: Any, depth: int = 0) -> dict[str, Any]:
    """A JSON Schema for an SDK response annotation: scalars, literals, lists, models
    (their fields, to a depth), unions of models as `oneOf`."""
    from pydantic import BaseModel

    origin = typing.get_origin(tp)
    if origin in (typing.Annotated, te.Annotated):
        return schema_of(typing.get_args(tp)[0], depth)
    if origin in (typing.Literal, te.Literal):
        return {"enum": list(typing.get_args(tp))}
    if tp in SCALARS:
        return {"type": SCALARS[tp]}
    if tp is dt.datetime:
        return {"type": "string"}
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return object_schema(tp, depth + 1) if depth < 1 else {"type": "object"}
    args = typing.get_args(tp)
    if origin in (list, typing.List):  # noqa: UP006
        return {"type": "array", "items": schema_of(args[0], depth) if args else {}}
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        members = [a for a in args if a is not type(None)]
        schemas = list(
            {
                json.dumps(s, sort_keys=True): s for s in (schema_of(m, depth) for m in members)
            }.values()
        )
        inner = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
        return _nullable(inner) if len(members) < len(args) else inner
    return {}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema:
        return {"enum": [*schema["enum"], None]}
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return {**schema, "type": [*kinds, "null"]}
    if "anyOf" in schema:
        return {"anyOf": [*schema["anyOf"], {"type": "null"}]}
    return schema


def object_schema(cls: Any, depth: int = 0) -> dict[str, Any]:
    """A model's fields; its `type` tag, when it has one, as a `const` (how responses.json
    marks a tagged member)."""
    fields = {f.alias or n: f for n, f in cls.model_fields.items()}  # JSON keys
    props = {n: schema_of(f.annotation, depth) for n, f in fields.items()}
    tag = _tag(cls)
    if tag is not None:
        props["type"] = {"const": tag}
    required = [n for n, f in fields.items() if f.is_required()]
    return {"type": "object", "required": required, "properties": props}


class Filler(ReplyWalker):
    """The drift walker, adding what it finds missing instead of listing it."""

    def missing_field(self, cls: Any, name: str, props: dict[str, Any], where: str) -> None:
        info = cls.model_fields[name]
        props[info.alias or name] = schema_of(info.annotation)

    def missing_tag(self, cls: Any, tag: str, branches: list[dict[str, Any]], where: str) -> None:
        owner = next((b for b in branches if "discriminator" in b), None)
        if owner is None:  # an inline union: one more branch
            alternatives = branches[0].setdefault("anyOf", [])
            alternatives.append(object_schema(cls))
            return
        name = "Reply" + "".join(part.title() for part in tag.split("_"))
        self.responses[name] = object_schema(cls)
        owner["discriminator"]["mapping"][tag] = RESPONSES_REF + name
        owner["properties"]["type"]["enum"].append(tag)
        if "oneOf" in owner:
            owner["oneOf"].append({"$ref": RESPONSES_REF + name})

    def missing_value(
        self, cls: Any, name: str, value: str, allowed: list[Any], where: str
    ) -> None:
        allowed.insert(len(allowed) - (None in allowed), value)  # before a final null


def responses(old: dict[str, Any]) -> dict[str, Any]:
    from anthropic.types import Message, RawMessageStreamEvent
    from anthropic.types.beta import BetaMessage, BetaRawMessageStreamEvent

    out = copy.deepcopy(old)
    events = _models_in(RawMessageStreamEvent) + _models_in(BetaRawMessageStreamEvent)
    for _ in range(8):  # what one pass adds can hold more to add: until nothing changes
        before = dumps(out)
        filler = Filler(out, "")
        for cls in (Message, BetaMessage):
            filler.model(cls, {"$ref": RESPONSES_REF + "Message"}, "Message")
        if "StreamEvent" in out:
            filler.models(events, {"$ref": RESPONSES_REF + "StreamEvent"}, "event")
        if dumps(out) == before:
            break
    for node in out.values():  # a tagged union's `oneOf` lists what its mapping names
        mapping = node.get("discriminator", {}).get("mapping") if isinstance(node, dict) else None
        if mapping is not None and "oneOf" in node:
            node["oneOf"] = [{"$ref": ref} for ref in dict.fromkeys(mapping.values())]
    return out


# -- the command -----------------------------------------------------------------------------

STEPS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "schemas/messages.json": request_schema,
    "betas.json": betas,
    "models.json": models,
    "schemas/responses.json": responses,
}


def generate() -> dict[Path, str]:
    """Each file's new text, from its checked-in text and the installed SDK."""
    out = {}
    for name, step in STEPS.items():
        path = CONTRACT / name
        out[path] = dumps(step(json.loads(path.read_text("utf-8"))))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.regenerate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    import anthropic

    stale = []
    for path, text in generate().items():
        if path.read_text("utf-8") != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    verb = "would change" if args.check else "rewrote"
    names = ", ".join(str(p.relative_to(CONTRACT.parents[1])) for p in stale) or "nothing"
    print(f"regenerate (anthropic {anthropic.__version__}): {verb} {names}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
