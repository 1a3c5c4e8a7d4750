"""The JSON Schema value generator: every value valid, deterministic, hostile schemas refused
fast and clearly (no socket, no SDK)."""

from __future__ import annotations

import datetime
import enum
import random
import re
import uuid
from typing import Any, Literal, Optional, Union

import jsonschema
import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockspike.synthetic.strings import FORMATS, PatternError, from_pattern
from mockspike.synthetic.structured import SchemaError, SchemaTooLarge, generate


def valid(value: Any, schema: Any) -> None:
    """The check a client makes: jsonschema with formats checked."""
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(value)


def draws(schema: Any, count: int = 25) -> list[Any]:
    return [generate(schema, random.Random(seed)) for seed in range(count)]


NODE = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
    },
    "required": ["name", "children"],
    "additionalProperties": False,
}

TABLE: dict[str, dict[str, Any]] = {
    "object, required and optional": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "bounds": {
        "type": "object",
        "properties": {
            "ticket": {"type": "integer", "minimum": 1000, "maximum": 9999},
            "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1.5},
            "step": {"type": "integer", "minimum": 7, "maximum": 50, "multipleOf": 7},
            "price": {"type": "number", "minimum": 0.1, "maximum": 3, "multipleOf": 0.1},
            "half": {"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.5},
            "tiny": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1e-9},
        },
        "required": ["ticket", "score", "step", "price", "half", "tiny"],
    },
    "strings": {
        "type": "object",
        "properties": {
            "short": {"type": "string", "maxLength": 3},
            "long": {"type": "string", "minLength": 60},
            "exact": {"type": "string", "minLength": 5, "maxLength": 5},
            "code": {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"},
            "phone": {"type": "string", "pattern": "^\\+?[0-9]{7,12}$", "maxLength": 13},
            "alt": {"type": "string", "pattern": "^(yes|no|maybe)$"},
            "unanchored": {"type": "string", "pattern": "ab+c"},
        },
        "required": ["short", "long", "exact", "code", "phone", "alt", "unanchored"],
    },
    "formats": {
        "type": "object",
        "properties": {name: {"type": "string", "format": name} for name in FORMATS},
        "required": sorted(FORMATS),
    },
    "arrays": {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 4},
            "empty": {"type": "array", "items": {"type": "string"}, "maxItems": 0},
            "unique": {
                "type": "array",
                "items": {"enum": [1, 2, 3]},
                "minItems": 3,
                "uniqueItems": True,
            },
            "tuple": {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "items": False,
            },
        },
        "required": ["tags", "empty", "unique", "tuple"],
    },
    "enum, const, nullable type list": {
        "type": "object",
        "properties": {
            "priority": {"enum": ["low", "high", 3, None]},
            "version": {"const": {"major": 1}},
            "note": {"type": ["string", "null"], "maxLength": 3},
            "typed_enum": {"type": "integer", "enum": ["a", 4, 5]},
        },
        "required": ["priority", "version", "note", "typed_enum"],
    },
    "anyOf, oneOf, allOf": {
        "type": "object",
        "properties": {
            "choice": {"anyOf": [{"const": 3}, {"type": "string"}]},
            "one": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0.5}]},
            "both": {
                "allOf": [
                    {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                    {"properties": {"b": {"type": "boolean"}}, "required": ["b"]},
                    {"properties": {"a": {"minimum": 10}}},
                ]
            },
            "nested_unions": {
                "allOf": [
                    {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                    {"anyOf": [{"type": "string", "maxLength": 4}, {"type": "boolean"}]},
                ]
            },
        },
        "required": ["choice", "one", "both", "nested_unions"],
    },
    "$defs and $ref, with siblings": {
        "type": "object",
        "properties": {
            "home": {"$ref": "#/$defs/point"},
            "work": {"$ref": "#/definitions/point", "description": "legacy defs"},
            "all": {"$ref": "#/$defs/points"},
        },
        "required": ["home", "work", "all"],
        "$defs": {
            "point": {
                "type": "object",
                "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
                "required": ["x", "y"],
                "additionalProperties": False,
            },
            "points": {"type": "array", "items": {"$ref": "#/$defs/point"}, "minItems": 1},
        },
        "definitions": {"point": {"type": "integer", "minimum": 0}},
    },
    "recursive tree": {"$defs": {"node": NODE}, "$ref": "#/$defs/node"},
    "recursive through a union": {
        "$defs": {
            "expr": {
                "anyOf": [
                    {"type": "integer"},
                    {
                        "type": "object",
                        "properties": {
                            "op": {"enum": ["+", "*"]},
                            "args": {
                                "type": "array",
                                "items": {"$ref": "#/$defs/expr"},
                                "minItems": 2,
                            },
                        },
                        "required": ["op", "args"],
                    },
                ]
            }
        },
        "$ref": "#/$defs/expr",
    },
    "root ref": {
        "type": "object",
        "properties": {"next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}},
        "required": ["next"],
    },
    "min properties": {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "minProperties": 3,
        "additionalProperties": {"type": "boolean"},
    },
    "anything": {"type": "object", "properties": {"any": {}, "yes": True}, "required": ["any"]},
    "draft 4 exclusive bounds": {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "integer",
        "minimum": 1,
        "exclusiveMinimum": True,
        "maximum": 3,
        "exclusiveMaximum": True,
    },
    "draft 7": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "array",
        "items": [{"type": "string"}, {"type": "integer"}],
        "additionalItems": False,
        "minItems": 2,
    },
}


def test_every_format_drawn_is_one_jsonschema_checks() -> None:
    """`valid` checks formats only where a checker is installed (the test extra installs
    them); a format without one would pass unchecked."""
    checkers = jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers
    assert sorted(set(FORMATS) - set(checkers)) == []


@pytest.mark.parametrize("name", TABLE)
def test_every_value_is_valid_and_deterministic(name: str) -> None:
    schema = TABLE[name]
    values = draws(schema)
    for value in values:
        valid(value, schema)
    assert values == draws(schema)
    assert len({repr(v) for v in values}) > 1 or name.startswith("draft")


def test_values_look_plausible() -> None:
    schema = TABLE["strings"]
    value = draws(schema, 1)[0]
    assert re.fullmatch(r"[A-Z]{3}-\d{4}", value["code"])
    assert value["alt"] in ("yes", "no", "maybe")
    assert all(isinstance(v, str) and v.strip() for v in draws({"type": "string"}))


def test_properties_come_in_schema_order() -> None:
    schema = {
        "type": "object",
        "properties": {name: {"type": "integer"} for name in "zyxw"},
        "required": list("wxyz"),
    }
    assert list(generate(schema, random.Random(1))) == list("zyxw")


# -- what the SDK sends for Pydantic models ---------------------------------------------------


class Color(str, enum.Enum):
    red = "red"
    blue = "blue"


class Node(pydantic.BaseModel):
    name: str
    children: list[Node] = []


class Order(pydantic.BaseModel):
    id: uuid.UUID
    placed: datetime.datetime
    day: datetime.date
    took: datetime.timedelta
    quantity: int = pydantic.Field(ge=1, le=10)
    price: float = pydantic.Field(gt=0, lt=1000, multiple_of=0.5)
    code: str = pydantic.Field(min_length=3, max_length=6, pattern="^[a-z]+$")
    tags: list[str] = pydantic.Field(min_length=2, max_length=3)
    color: Color
    kind: Literal["a", "b"]
    note: Optional[str] = None  # noqa: UP045 (what users write)
    alt: Union[int, str]  # noqa: UP007
    tree: Node
    pair: tuple[int, str]
    counts: dict[str, int] = {}


def test_pydantic_json_schema_gives_values_the_model_accepts() -> None:
    schema = Order.model_json_schema()
    for value in draws(schema):
        valid(value, schema)
        Order.model_validate(value)


# -- hostile and impossible schemas -----------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ({"type": "array", "minItems": 10_000_000}, ("minItems",)),
        ({"type": "string", "minLength": 1_000_000_000}, ("minLength",)),
        ({"type": "string", "pattern": "a{100000000}"}, ("pattern",)),
        (
            {
                "type": "array",
                "minItems": 1,
                "items": {"type": "array", "minItems": 500, "items": {"minItems": 500}},
            },
            ("items", "items", "minItems"),
        ),
    ],
)
def test_unbounded_work_is_refused_with_the_schema_path(schema: Any, path: tuple[str]) -> None:
    with pytest.raises(SchemaTooLarge) as caught:
        generate(schema, random.Random(0))
    assert caught.value.path == path
    assert "budget" in caught.value.message or "work" in caught.value.message


@pytest.mark.parametrize(
    ("schema", "unit"),
    [
        ({"type": "array", "minItems": 10_000_000}, "values per reply"),
        ({"type": "string", "minLength": 1_000_000_000}, "characters per reply"),
    ],
)
def test_a_size_past_the_budget_names_its_unit(schema: dict[str, Any], unit: str) -> None:
    with pytest.raises(
        SchemaTooLarge, match=f"takes the value past mockspike's budget of .* {unit}"
    ):
        generate(schema, random.Random(0))


def test_ref_fan_out_is_refused() -> None:
    """Each level refers to the next twice: 2**20 values if drawn in full."""
    defs: dict[str, Any] = {
        f"d{i}": {
            "type": "object",
            "properties": {"l": {"$ref": f"#/$defs/d{i + 1}"}, "r": {"$ref": f"#/$defs/d{i + 1}"}},
            "required": ["l", "r"],
        }
        for i in range(20)
    }
    defs["d20"] = {"type": "integer"}
    with pytest.raises(SchemaTooLarge, match="20000 values"):
        generate({"$defs": defs, "$ref": "#/$defs/d0"}, random.Random(0))


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "strin"}, "invalid JSON Schema"),
        ({"type": "integer", "minimum": 5, "maximum": 4}, "no integer within the bounds"),
        ({"type": "number", "exclusiveMinimum": 1, "maximum": 1}, "admit no value"),
        ({"type": "integer", "minimum": 1, "maximum": 6, "multipleOf": 7}, "multiple of 7"),
        ({"type": "string", "minLength": 4, "maxLength": 2}, "maxLength 2 is below minLength 4"),
        ({"type": "array", "minItems": 3, "maxItems": 1}, "maxItems 1 is below minItems 3"),
        ({"$ref": "https://example.com/schema.json"}, "only local"),
        ({"$ref": "#/$defs/missing"}, "points at nothing"),
        ({"type": "object", "properties": {"me": {"$ref": "#"}}, "required": ["me"]}, "recurses"),
        ({"type": "string", "pattern": "(a)\\1"}, "backreferences"),
        ({"type": "string", "pattern": "(?=a)a"}, "lookahead"),
        ({"type": "string", "pattern": "\\bword"}, "word boundaries"),
        ({"type": "string", "pattern": "[unclosed"}, "is not a 'regex'"),
        ({"allOf": [{"type": "string"}, {"type": "integer"}]}, "different types"),
        ({"type": "array", "items": {"enum": [1]}, "minItems": 2, "uniqueItems": True}, "unique"),
        (
            {"type": "object", "required": ["x"], "additionalProperties": False},
            "not among the properties",
        ),
    ],
)
def test_impossible_schemas_say_why(schema: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=re.escape(message)):
        generate(schema, random.Random(0))


def test_error_location_reads_like_the_api() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "array", "minItems": 10**9}}}
    with pytest.raises(SchemaError) as caught:
        generate({**schema, "required": ["n"]}, random.Random(0))
    assert caught.value.where("output_config.format.schema").startswith(
        "output_config.format.schema.properties.n.minItems: minItems 1000000000 "
    )


@pytest.mark.parametrize("pattern", ["^[a-z]{3,5}-\\d{2}$", "(foo|bar)+baz", "[^abc]x", ".*z?"])
def test_patterns_match(pattern: str) -> None:
    for seed in range(30):
        assert re.search(pattern, from_pattern(pattern, random.Random(seed), 10_000))


def test_pattern_errors_are_pattern_errors() -> None:
    with pytest.raises(PatternError):
        from_pattern("(?<=a)b", random.Random(0), 100)


# -- Hypothesis over schemas ------------------------------------------------------------------

NAMES = st.sampled_from(["id", "name", "tags", "count", "kind", "when", "ok", "items"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=5))


@st.composite
def integer_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    low = draw(st.none() | st.integers(-1000, 1000))
    if low is not None:
        schema["minimum"] = low
    if draw(st.booleans()):
        schema["maximum"] = (low or 0) + draw(st.integers(10, 500))
    if draw(st.booleans()):
        schema["multipleOf"] = draw(st.integers(1, 9))
    return schema


@st.composite
def number_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number"}
    low = draw(st.floats(-1e6, 1e6))
    key = draw(st.sampled_from(["minimum", "exclusiveMinimum"]))
    schema[key] = low
    if draw(st.booleans()):
        schema[draw(st.sampled_from(["maximum", "exclusiveMaximum"]))] = low + draw(
            st.floats(1, 1e4)
        )
    if draw(st.booleans()):
        schema["multipleOf"] = draw(st.sampled_from([0.5, 0.25, 0.1, 2, 0.01]))
    return schema


@st.composite
def string_schemas(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["plain", "format", "pattern"]))
    if kind == "format":
        return {"type": "string", "format": draw(st.sampled_from(sorted(FORMATS)))}
    if kind == "pattern":
        return {
            "type": "string",
            "pattern": draw(
                st.sampled_from(["^[a-z]+$", "^\\d{3}-\\d{4}$", "^(red|green)$", "x+y?"])
            ),
        }
    low = draw(st.integers(0, 30))
    schema: dict[str, Any] = {"type": "string", "minLength": low}
    if draw(st.booleans()):
        schema["maxLength"] = low + draw(st.integers(0, 30))
    return schema


LEAVES = st.one_of(
    integer_schemas(),
    number_schemas(),
    string_schemas(),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.lists(SCALARS, min_size=1, max_size=4).map(lambda v: {"enum": v}),
    SCALARS.map(lambda v: {"const": v}),
)


def composite(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def objects(draw: st.DrawFn) -> dict[str, Any]:
        props = draw(st.dictionaries(NAMES, children, max_size=4))
        required = draw(st.lists(st.sampled_from(sorted(props)), unique=True)) if props else []
        return {
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": False,
        }

    @st.composite
    def arrays(draw: st.DrawFn) -> dict[str, Any]:
        low = draw(st.integers(0, 3))
        schema = {"type": "array", "items": draw(children), "minItems": low}
        if draw(st.booleans()):
            schema["maxItems"] = low + draw(st.integers(0, 3))
        return schema

    return st.one_of(
        objects(),
        arrays(),
        st.lists(children, min_size=1, max_size=3).map(lambda v: {"anyOf": v}),
        children.filter(lambda v: isinstance(v.get("type"), str) and v["type"] != "null").map(
            lambda v: {**v, "type": [v["type"], "null"]}
        ),
    )


NESTED = st.recursive(LEAVES, composite, max_leaves=12)
SCHEMAS = NESTED | NESTED.map(lambda v: {"$defs": {"it": v}, "$ref": "#/$defs/it"})


@given(SCHEMAS, st.integers(0, 2**32))
def test_any_supported_schema_gets_a_valid_value(schema: dict[str, Any], seed: int) -> None:
    value = generate(schema, random.Random(seed))
    valid(value, schema)
    assert generate(schema, random.Random(seed)) == value
