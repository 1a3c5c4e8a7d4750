"""The Files API above its store: the multipart upload files come from, and the
`{"type": "file", "file_id"}` sources of Messages requests resolved against them.

Where files live is the files store's (`state/files.py`: in memory, in a directory, or in
Redis). Uploaded files are not downloadable, as on the API; files a test adds as if a tool
had created them (`downloadable=True`) are.
"""

from __future__ import annotations

import base64
import copy
import mimetypes
import re
from dataclasses import dataclass, field
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header

from mockspike.gateway import accounting
from mockspike.model.blocks import request_blocks
from mockspike.model.errors import ApiError
from mockspike.state.files import MAX_FILE_BYTES, FileStore, guess_type
from mockspike.state.files import too_large as too_large  # the upload's 413 (endpoints.py)

MULTIPART_OVERHEAD = 64 * 1024
"""Room for the multipart framing around the largest file an upload may carry."""
MAX_UPLOAD_BYTES = MAX_FILE_BYTES + MULTIPART_OVERHEAD
EXPIRES_RANGE = (3600, 7_776_000)
"""`expires_in_seconds`: from one hour to ninety days."""
_FORBIDDEN_NAME = re.compile(r'[<>:"|?*\\/\x00-\x1f]')
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_TEXT_DOCUMENT = "text/plain"
_PDF = "application/pdf"


def resolve_files(files: FileStore, body: dict[str, Any], now: float) -> dict[str, Any]:
    """`body` with every `image`/`document` block whose source is `{"type": "file"}`
    replaced by the same content inline, so validation, token counts and replies
    treat a file like its content. An unknown id is the API's 404; a file whose type
    the block cannot hold is its 400. Returns `body` itself when no block refers to
    a file."""
    if not _has_file_source(body):
        return body
    resolved = copy.deepcopy(body)
    for message in resolved.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict):
                _inline(files, block, now)
                for inner in _tool_result_blocks(block):
                    _inline(files, inner, now)
    return resolved


def _inline(files: FileStore, block: dict[str, Any], now: float) -> None:
    source = block.get("source")
    kind = block.get("type")
    if not (isinstance(source, dict) and source.get("type") == "file"):
        return
    if kind not in ("image", "document"):
        return
    file_id = str(source.get("file_id", ""))
    stored = files.get(file_id, now)
    mime = stored.mime_type
    binary = (kind == "image" and mime in _IMAGE_TYPES) or (kind == "document" and mime == _PDF)
    if binary:
        data = base64.b64encode(files.content(file_id)).decode("ascii")
        block["source"] = {"type": "base64", "media_type": mime, "data": data}
    elif kind == "document" and mime.startswith("text/"):
        text = files.content(file_id).decode("utf-8", errors="replace")
        block["source"] = {"type": "text", "media_type": _TEXT_DOCUMENT, "data": text}
    else:
        raise ApiError(
            400,
            f"File {file_id} has mime type {mime}, which {kind} blocks cannot hold.",
        )


def _tool_result_blocks(block: dict[str, Any]) -> list[dict[str, Any]]:
    if block.get("type") != "tool_result" or not isinstance(block.get("content"), list):
        return []
    return [b for b in block["content"] if isinstance(b, dict)]


def _has_file_source(body: dict[str, Any]) -> bool:
    """A cheap scan first, so requests without files pay nothing."""
    if not accounting.mentions(body, b'"file"'):
        return False
    for block in request_blocks(body):
        source = block.get("source")
        if isinstance(source, dict) and source.get("type") == "file":
            return True
    return False


# -- the multipart upload ------------------------------------------------------------------


@dataclass
class Upload:
    """What `POST /v1/files` carried: the file part and the optional expiry."""

    content: bytes
    filename: str
    mime_type: str
    expires_in: int | None


def parse_upload(content_type: str | None, body: bytes) -> Upload:
    """Parse a `multipart/form-data` upload (the engine only sees bytes, so the in-process
    transports and the server share this); refuse what the API refuses."""
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise ApiError(400, "Request body must be multipart/form-data with a `file` part.")
    parts = _parts(boundary, body)
    files = [p for p in parts if p.filename is not None and p.name == "file"]
    if not files:
        raise ApiError(400, "file: Field required")
    part = files[0]
    if len(part.data) > MAX_FILE_BYTES:
        raise too_large()
    filename = _filename(part.filename or "", part.content_type)
    mime = part.content_type
    if not mime or mime == "application/octet-stream":
        mime = guess_type(filename)
    return Upload(bytes(part.data), filename, mime, _expires_in(parts))


@dataclass
class _Part:
    name: str | None = None
    filename: str | None = None
    content_type: str | None = None
    data: bytearray = field(default_factory=bytearray)


def _parts(boundary: bytes, body: bytes) -> list[_Part]:
    parts: list[_Part] = []
    header: dict[str, bytearray] = {"field": bytearray(), "value": bytearray()}
    headers: dict[str, str] = {}
    ended = False

    def part_begin() -> None:
        parts.append(_Part())
        headers.clear()

    def header_field(data: bytes, start: int, end: int) -> None:
        header["field"] += data[start:end]

    def header_value(data: bytes, start: int, end: int) -> None:
        header["value"] += data[start:end]

    def header_end() -> None:
        name = header["field"].decode("latin-1").lower()
        headers[name] = header["value"].decode("utf-8", errors="replace")
        header["field"].clear()
        header["value"].clear()

    def headers_finished() -> None:
        part = parts[-1]
        _, disposition = parse_options_header(headers.get("content-disposition", ""))
        name = disposition.get(b"name")
        filename = disposition.get(b"filename")
        part.name = name.decode("utf-8", errors="replace") if name is not None else None
        part.filename = filename.decode("utf-8", errors="replace") if filename is not None else None
        part.content_type = headers.get("content-type")

    def part_data(data: bytes, start: int, end: int) -> None:
        parts[-1].data += data[start:end]

    def finished() -> None:
        nonlocal ended
        ended = True

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": part_begin,
            "on_header_field": header_field,
            "on_header_value": header_value,
            "on_header_end": header_end,
            "on_headers_finished": headers_finished,
            "on_part_data": part_data,
            "on_end": finished,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except Exception as exc:  # python-multipart raises its own errors on broken framing
        raise ApiError(400, f"The multipart body could not be parsed: {exc}") from None
    if not ended:
        raise ApiError(400, "The multipart body ended before its closing boundary.")
    return parts


def _filename(sent: str, content_type: str | None) -> str:
    """Only the final path component is kept; an absent name becomes `unnamed` plus the
    extension of its type (as the SDK documents the API doing)."""
    name = re.split(r"[\\/]", sent)[-1]
    if not name:
        extension = mimetypes.guess_extension(content_type or "") or ""
        return "unnamed" + extension
    if len(name) > 255 or _FORBIDDEN_NAME.search(name):
        raise ApiError(
            400,
            'Invalid filename: it must be 1-255 characters without <, >, :, ", |, ?, *, '
            "\\, / or control characters.",
        )
    return name


def _expires_in(parts: list[_Part]) -> int | None:
    fields = [p for p in parts if p.name == "expires_in_seconds" and p.filename is None]
    if not fields:
        return None
    text = fields[0].data.decode("ascii", errors="replace").strip()
    low, high = EXPIRES_RANGE
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, "expires_in_seconds: Input should be a valid integer") from None
    if not low <= value <= high:
        raise ApiError(400, f"expires_in_seconds: Input should be between {low} and {high}")
    return value
