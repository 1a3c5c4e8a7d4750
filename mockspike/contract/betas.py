"""The `anthropic-beta` header: which values the API knows, and which fields need one.

Data in `betas.json`. The API refuses an unknown value with a 400 naming it, and a field that
exists only behind a beta (`context_management`, `mcp_servers`) as an extra input when the
header does not carry that beta."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from mockspike.model.errors import ApiError


@functools.cache
def _data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("betas.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def known() -> frozenset[str]:
    """Every value the fake accepts in `anthropic-beta`."""
    return frozenset(_data()["sdk"]) | frozenset(_data()["clients"])


def gated_fields() -> dict[str, list[str]]:
    """Top-level field -> the betas that let a request use it."""
    fields: dict[str, list[str]] = _data()["fields"]
    return fields


def context_1m() -> frozenset[str]:
    """Betas that give a model its 1M-token context window."""
    return frozenset(_data()["context_1m"])


_NONE: frozenset[str] = frozenset()


def parse(header: str | None) -> frozenset[str]:
    """The values of an `anthropic-beta` header (comma-separated, any spacing); unknown
    values are the API's 400."""
    if not header:
        return _NONE
    values = [v.strip() for v in header.split(",") if v.strip()]
    unknown = [v for v in values if v not in known()]
    if unknown:
        raise ApiError(
            400,
            f"Unexpected value(s) `{', '.join(unknown)}` for the `anthropic-beta` header. "
            "Please consult our documentation at docs.claude.com or try again without the "
            "header.",
        )
    return frozenset(values)


def check_fields(body: dict[str, Any], betas: frozenset[str]) -> None:
    """A beta-only field without its beta is an extra input, as the API words it."""
    for name, needs in gated_fields().items():
        if name in body and not betas.intersection(needs):
            raise ApiError(400, f"{name}: Extra inputs are not permitted")
