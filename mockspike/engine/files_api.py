"""The `/v1/files` endpoints (the Files API beta): upload, list, metadata, download, delete.

The upload is `multipart/form-data`; adapters stop reading it past the 500 MB limit and
the engine parses what arrived (`files.parse_upload`). Downloads are allowed only for
files a tool created (`downloadable`), as on the API.
"""

from __future__ import annotations

from mockspike.engine.context import Context
from mockspike.engine.files import parse_upload
from mockspike.model import paging
from mockspike.model.errors import ApiError
from mockspike.model.wire import WireResponse, json_answer

PAGE_PREFIX = "page_"
"""The SDK 1.x+ pages with an opaque `page` cursor; 0.x with `after_id` / `before_id`."""


def upload(call: Context) -> WireResponse:
    services = call.services
    sent = parse_upload(call.request.header("content-type"), call.request.body)
    stored = services.files.add(
        sent.content,
        sent.filename,
        sent.mime_type,
        now=services.clock.now(),
        expires_in=sent.expires_in,
    )
    call.entry.body = {"filename": stored.filename, "size_bytes": stored.size_bytes}
    return json_answer(stored.metadata())


def list_files(call: Context) -> WireResponse:
    """Newest first. Pages by `after_id` / `before_id` (first_id, last_id, has_more) and by
    the `page` cursor (`next_page`), so both SDK generations can walk the list."""
    query = paging.query_of(call.request.query)
    now = call.services.clock.now()
    files = [
        f
        for f in reversed(call.services.files.list())
        if f.expires_at is None or now < f.expires_at
    ]
    after = query.get("after_id") or _cursor(query.get("page"))
    chosen, has_more = paging.page(files, [f.id for f in files], query, after)
    data = [f.metadata() for f in chosen]
    last = data[-1]["id"] if data else None
    next_page = PAGE_PREFIX + last if has_more and last else None
    return json_answer({**paging.listing(data, has_more), "next_page": next_page})


def retrieve(call: Context) -> WireResponse:
    stored = call.services.files.get(call.params["file_id"], call.services.clock.now())
    return json_answer(stored.metadata())


def download(call: Context) -> WireResponse:
    file_id, files = call.params["file_id"], call.services.files
    stored = files.get(file_id, call.services.clock.now())
    if not stored.downloadable:
        raise ApiError(400, "File is not downloadable")
    headers = {
        "content-type": stored.mime_type,
        "content-disposition": f'attachment; filename="{stored.filename}"',
    }
    return WireResponse(200, headers, files.content(file_id))


def delete(call: Context) -> WireResponse:
    file_id = call.params["file_id"]
    call.services.files.delete(file_id)
    return json_answer({"id": file_id, "type": "file_deleted"})


def _cursor(page: str | None) -> str | None:
    if not page:
        return None
    if not page.startswith(PAGE_PREFIX):
        raise ApiError(400, f"page: invalid page cursor {page!r}")
    return page[len(PAGE_PREFIX) :]
