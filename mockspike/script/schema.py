"""What a script may say, checked when it is scripted: `script/script.schema.json` (a rule's
fields, and one `$defs` entry an answer verb), with each matcher's value schema filled in
from its `MATCHERS` row. Python keyword arguments, script files and the admin API are
checked by the same schema; the message names the field, why it is wrong, and the nearest
valid name for a typo (`model/arguments.py`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from mockspike.model import arguments
from mockspike.script.matchers import MATCHERS

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator


@cache
def document() -> dict[str, Any]:
    text = files("mockspike.script").joinpath("script.schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _validator(name: str) -> Draft202012Validator:
    defs = document()["$defs"]
    if name == "rule":  # each matcher's value schema, from its row of the MATCHERS table
        match = {**defs["rule"]["properties"]["match"]}
        match["properties"] = {n: dict(m.schema) for n, m in MATCHERS.items() if m.in_files}
        rule = {**defs["rule"], "properties": {**defs["rule"]["properties"], "match": match}}
        defs = {**defs, "rule": rule}
    return arguments.validator({"$ref": f"#/$defs/{name}", "$defs": defs})


def check(name: str, args: Mapping[str, Any]) -> None:
    """Refuse the arguments of answer verb `name` (or a `rule`'s fields) that the fake could
    not serve: unknown names (TypeError, with the nearest valid one) and wrong values
    (`ScriptValueError`, a ValueError)."""
    arguments.check(name, _validator(name), args)
