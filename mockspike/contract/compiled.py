"""The compiled acceptance check: fastjsonschema's generated code, with tagged unions
dispatched on their tag.

A tagged union is written in the schema as an `allOf` of `if`/`then` pairs, one a tag:
`{"if": {"properties": {"type": {"const": "text"}}, "required": ["type"]}, "then": ...}`.
Compiled as written, every block tries each `if` in turn, and each miss raises and catches
an exception: an agent history of 13 turns paid for ~60 of them, and a body's cost grew with
the number of union members times the number of blocks. Here such an `allOf` compiles to
one comparison chain on the tag, then only the matching branch's checks, so the cost is
proportional to the body alone. Acceptance is exactly the schema's (an object whose tag
matches no branch passes the `allOf`, as the `if`s would let it; anything but an object
meets every `then`, as an `if` on properties holds vacuously there) and the exact error
messages still come from jsonschema, on the rejection path only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from fastjsonschema.draft07 import CodeGeneratorDraft07
from fastjsonschema.exceptions import JsonSchemaValueException
from fastjsonschema.ref_resolver import RefResolver
from jsonschema import Draft202012Validator
from jsonschema.validators import extend

Validator = Callable[[Any], Any]

__all__ = [
    "JsonSchemaValueException",
    "Union",
    "Validator",
    "compile_schema",
    "explaining_validator",
    "tagged_union",
]


class Union(NamedTuple):
    """A tagged union: the `then` schemas by tag value, and those that also apply to an
    object without the tag (their `if` does not require it, so it holds vacuously there:
    a custom tool may leave out `"type": "custom"`)."""

    tag: str
    branches: dict[str, list[Any]]
    untagged: list[Any]


def tagged_union(all_of: Any) -> Union | None:
    """The union when every member of an `allOf` is an `if` on one property's string
    `const` (that property required, or not) with a `then` and no `else`; None for any
    other `allOf`."""
    if not isinstance(all_of, list) or not all_of:
        return None
    tag: str | None = None
    branches: dict[str, list[Any]] = {}
    untagged: list[Any] = []
    for member in all_of:
        if not isinstance(member, dict) or set(member) != {"if", "then"}:
            return None
        condition = member["if"]
        if not isinstance(condition, dict) or set(condition) - {"required"} != {"properties"}:
            return None
        properties, required = condition["properties"], condition.get("required")
        if not isinstance(properties, dict) or len(properties) != 1:
            return None
        if required not in (None, list(properties)):
            return None
        ((name, check),) = properties.items()
        if tag not in (None, name) or not isinstance(check, dict) or set(check) != {"const"}:
            return None
        if not isinstance(check["const"], str):
            return None
        tag = name
        branches.setdefault(check["const"], []).append(member["then"])
        if required is None:
            untagged.append(member["then"])
    assert tag is not None
    return Union(tag, branches, untagged)


class _Generator(CodeGeneratorDraft07):
    """fastjsonschema's draft-07 generator; a tagged-union `allOf` becomes a dispatch, and
    a `$ref` call passes no location (stock code formats one for every array item, for an
    error message this check never shows)."""

    def generate_ref(self) -> None:
        definition: Any = self._definition
        with self._resolver.in_scope(definition["$ref"]):
            name = self._resolver.get_scope_name()
            uri = self._resolver.get_uri()
            if uri not in self._validation_functions_done:
                self._needed_validation_functions[uri] = name
            self.l("{}({variable}, custom_formats, None)", name)

    def generate_all_of(self) -> None:
        definition: Any = self._definition
        union = tagged_union(definition["allOf"])
        if union is None:
            super().generate_all_of()  # type: ignore[no-untyped-call]
            return
        tag, branches, untagged = union
        variable, name = self._variable, self._variable_name
        tag_variable = f"{variable}__tag"
        with self.l("if isinstance({variable}, dict) and {} in {variable}:", repr(tag)):
            self.l("{} = {variable}[{}]", tag_variable, repr(tag))
            keyword = "if"
            for value, thens in branches.items():
                with self.l("{} {} == {}:", keyword, tag_variable, repr(value)):
                    for then in thens:
                        self._block(then, variable, name)
                keyword = "elif"
        if untagged:
            with self.l("elif isinstance({variable}, dict):"):
                self.l("pass")  # no tag: the `if`s that do not require it hold
                for then in untagged:
                    self._block(then, variable, name)
        with self.l("elif not isinstance({variable}, dict):"):
            self.l("pass")  # not an object: every `if` holds, so every `then` applies
            for thens in branches.values():
                for then in thens:
                    self._block(then, variable, name)

    def exc(self, msg: str, *args: Any, append_to_msg: str | None = None, rule: Any = None) -> None:
        """Raise a bare exception. The stock one carries the failing schema as a literal,
        rebuilt at every raise (the whole expanded request schema at the top level): a
        rejection cost as much as building that schema, and compiling took seconds."""
        self.l("raise JsonSchemaValueException({})", repr(rule or "invalid"))

    def _block(self, schema: Any, variable: Any, name: Any) -> None:
        self.generate_func_code_block(schema, variable, name, clear_variables=True)  # type: ignore[no-untyped-call]


def compile_schema(schema: dict[str, Any]) -> Validator:
    """A validator that raises `JsonSchemaValueException` on a body the schema rejects
    (its message is not used: the caller asks jsonschema for the exact one)."""
    definition = {k: v for k, v in schema.items() if k != "$schema"}
    resolver = RefResolver.from_schema(definition, handlers={}, store={})
    generator = _Generator(definition, resolver=resolver)  # type: ignore[no-untyped-call]
    state: dict[str, Any] = generator.global_state
    exec(generator.func_code, state)  # fastjsonschema's own way to build it
    validator: Validator = state[resolver.get_scope_name()]
    return validator


def explaining_validator(root: dict[str, Any]) -> Draft202012Validator:
    """jsonschema's validator for `root`, for the rejection path's exact messages, that
    descends into an array's first failing item only (found by compiled checks of the item
    schema). The caller reports the error that comes first in schema and index order, and
    every error inside item `i` comes before any inside a later item, so the answer is the
    same; but a body of a million blocks with one bad block costs one compiled pass, not a
    million jsonschema descents."""
    checks: dict[int, Validator] = {}
    stock_items = Draft202012Validator.VALIDATORS["items"]

    def item_check(items: dict[str, Any]) -> Validator:
        check = checks.get(id(items))
        if check is None:
            definitions: dict[str, Any] = {
                k: root[k] for k in ("$defs", "definitions") if k in root
            }
            check = checks[id(items)] = compile_schema({**items, **definitions})
        return check

    def items(
        validator: Draft202012Validator, items: Any, instance: Any, schema: dict[str, Any]
    ) -> Any:
        if not (isinstance(items, dict) and isinstance(instance, list)) or "prefixItems" in schema:
            yield from stock_items(validator, items, instance, schema)
            return
        check = item_check(items)
        for index, item in enumerate(instance):
            try:
                check(item)
            except JsonSchemaValueException:
                yield from validator.descend(instance=item, schema=items, path=index)
                return

    cls = extend(Draft202012Validator, {"items": items})  # type: ignore[no-untyped-call]
    validator: Draft202012Validator = cls(root)
    return validator
