"""The API's list paging, once for every list endpoint (models, batches, files): newest
first, `limit` 1-1000 (default 20), `after_id` / `before_id`, and the page object
`{data, has_more, first_id, last_id}`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs

from mockspike.model.errors import ApiError

T = TypeVar("T")


def query_of(raw: str) -> dict[str, str]:
    """A query string as a dict (the last value of a repeated name wins)."""
    return {k: v[-1] for k, v in parse_qs(raw).items()}


def page(
    items: Sequence[T], ids: list[str], query: dict[str, str], after: str | None = None
) -> tuple[list[T], bool]:
    """One page of `items` (whose ids are `ids`) and whether more follow. `after` overrides
    `after_id` (a cursor another parameter carried)."""
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        raise ApiError(400, "limit: Input should be a valid integer") from None
    if not 1 <= limit <= 1000:
        raise ApiError(400, "limit: Input should be between 1 and 1000")
    after = after if after is not None else query.get("after_id")
    if after is not None:
        start = _position(ids, after, "after_id") + 1
        return list(items[start : start + limit]), start + limit < len(items)
    if "before_id" in query:
        end = _position(ids, query["before_id"], "before_id")
        return list(items[max(0, end - limit) : end]), end - limit > 0
    return list(items[:limit]), limit < len(items)


def listing(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    """The page object every list endpoint answers with."""
    return {
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


def _position(ids: list[str], value: str, name: str) -> int:
    try:
        return ids.index(value)
    except ValueError:
        raise ApiError(404, f"{name}: {value}") from None
