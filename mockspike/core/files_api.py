"""The `/v1/files` endpoints (the Files API beta): upload, list, metadata, download, delete.

The upload is `multipart/form-data`; adapters stop reading it past the 500 MB limit and
the engine parses what arrived (`files.parse_upload`). Downloads are allowed only for
files a tool created (`downloadable`), as on the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from ..contract.errors import ApiError
from .files import parse_upload
from .models_api import json_answer
from .wire import WireResponse

if TYPE_CHECKING:
    from .endpoints import Call
    from .engine import Engine

PAGE_PREFIX = "page_"
"""The SDK 1.x+ pages with an opaque `page` cursor; 0.x with `after_id` / `before_id`."""


def upload(engine: Engine, call: Call) -> WireResponse:
    sent = parse_upload(call.request.header("content-type"), call.request.body)
    stored = engine.files.add(
        sent.content,
        sent.filename,
        sent.mime_type,
        now=engine.clock.now(),
        expires_in=sent.expires_in,
    )
    call.entry.body = {"filename": stored.filename, "size_bytes": stored.size_bytes}
    return json_answer(stored.metadata(), engine.request_id())


def list_files(engine: Engine, call: Call) -> WireResponse:
    """Newest first. Pages by `after_id` / `before_id` (first_id, last_id, has_more) and by
    the `page` cursor (`next_page`), so both SDK generations can walk the list."""
    query = {k: v[-1] for k, v in parse_qs(call.request.query).items()}
    now = engine.clock.now()
    files = [f for f in reversed(engine.files.list()) if f.expires_at is None or now < f.expires_at]
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        raise ApiError(400, "limit: Input should be a valid integer") from None
    if not 1 <= limit <= 1000:
        raise ApiError(400, "limit: Input should be between 1 and 1000")
    ids = [f.id for f in files]
    after = query.get("after_id") or _cursor(query.get("page"))
    if after is not None:
        start = _position(ids, after, "after_id") + 1
        chosen, has_more = files[start : start + limit], start + limit < len(files)
    elif "before_id" in query:
        end = _position(ids, query["before_id"], "before_id")
        chosen, has_more = files[max(0, end - limit) : end], end - limit > 0
    else:
        chosen, has_more = files[:limit], limit < len(files)
    data = [f.metadata() for f in chosen]
    last = data[-1]["id"] if data else None
    return json_answer(
        {
            "data": data,
            "has_more": has_more,
            "first_id": data[0]["id"] if data else None,
            "last_id": last,
            "next_page": PAGE_PREFIX + last if has_more and last else None,
        },
        engine.request_id(),
    )


def retrieve(engine: Engine, call: Call) -> WireResponse:
    stored = engine.files.get(call.params["file_id"], engine.clock.now())
    return json_answer(stored.metadata(), engine.request_id())


def download(engine: Engine, call: Call) -> WireResponse:
    file_id = call.params["file_id"]
    stored = engine.files.get(file_id, engine.clock.now())
    if not stored.downloadable:
        raise ApiError(400, "File is not downloadable")
    headers = {
        "content-type": stored.mime_type,
        "content-disposition": f'attachment; filename="{stored.filename}"',
        "request-id": engine.request_id(),
    }
    return WireResponse(200, headers, engine.files.content(file_id))


def delete(engine: Engine, call: Call) -> WireResponse:
    file_id = call.params["file_id"]
    engine.files.delete(file_id)
    return json_answer({"id": file_id, "type": "file_deleted"}, engine.request_id())


def _cursor(page: str | None) -> str | None:
    if not page:
        return None
    if not page.startswith(PAGE_PREFIX):
        raise ApiError(400, f"page: invalid page cursor {page!r}")
    return page[len(PAGE_PREFIX) :]


def _position(ids: list[str], value: str, name: str) -> int:
    try:
        return ids.index(value)
    except ValueError:
        raise ApiError(404, f"{name}: {value}") from None
