"""The Files API's state: stored files, the multipart upload they come from, and the
`{"type": "file", "file_id"}` sources of Messages requests resolved against them.

Where files live is the state's (`FileStorage`): in memory, or in a directory
(`MockSpike(files_dir=...)`, `serve --files-dir`: each file's bytes in `<id>` and its
metadata in `<id>.json`, so a directory outlives the process) — `FileStore` — or in Redis
with a shared state (`state/redis_stores.py`). Uploaded files are not downloadable, as
on the API; files a test adds as if a tool had created them (`downloadable=True`) are.
"""

from __future__ import annotations

import abc
import base64
import copy
import json
import mimetypes
import re
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header

from mockspike._ids import random_id
from mockspike.gateway import accounting
from mockspike.gateway.limits import rfc3339
from mockspike.model.blocks import request_blocks
from mockspike.model.errors import ApiError

MAX_FILE_BYTES = 500 * 1024 * 1024
"""The API's limit for one file: 500 MB."""
MULTIPART_OVERHEAD = 64 * 1024
"""Room for the multipart framing around the largest file an upload may carry."""
MAX_UPLOAD_BYTES = MAX_FILE_BYTES + MULTIPART_OVERHEAD
EXPIRES_RANGE = (3600, 7_776_000)
"""`expires_in_seconds`: from one hour to ninety days."""
_FORBIDDEN_NAME = re.compile(r'[<>:"|?*\\/\x00-\x1f]')
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_TEXT_DOCUMENT = "text/plain"
_PDF = "application/pdf"


@dataclass
class StoredFile:
    """A file's metadata, as `GET /v1/files/{id}` shows it (plus what the fake needs)."""

    id: str
    filename: str
    mime_type: str
    size_bytes: int
    created_at: float
    downloadable: bool = False
    expires_at: float | None = None

    def metadata(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "file",
            "id": self.id,
            "filename": self.filename,
            "mime_type": self.mime_type,
            "size_bytes": self.size_bytes,
            "created_at": rfc3339(self.created_at),
            "downloadable": self.downloadable,
        }
        if self.expires_at is not None:
            data["expires_at"] = rfc3339(self.expires_at)
        return data


def not_found(file_id: str) -> ApiError:
    return ApiError(404, f"File not found: {file_id}")


class FileStorage(abc.ABC):
    """Files by id, newest last: what every place files are kept does, and what the
    Messages pipeline reads through it (`resolve`)."""

    def add(
        self,
        content: bytes,
        filename: str,
        mime_type: str | None = None,
        *,
        now: float,
        downloadable: bool = False,
        expires_in: float | None = None,
    ) -> StoredFile:
        """Store `content`; `downloadable=True` stands for a file a tool created."""
        if len(content) > MAX_FILE_BYTES:
            raise too_large()
        stored = StoredFile(
            id=random_id("file_011C", 22),
            filename=filename,
            mime_type=mime_type or guess_type(filename),
            size_bytes=len(content),
            created_at=now,
            downloadable=downloadable,
            expires_at=now + expires_in if expires_in is not None else None,
        )
        self._keep(stored, content)
        return stored

    def restore(self, file_id: str, filename: str, mime_type: str, *, now: float) -> StoredFile:
        """Keep a file under the id a recording gave it (`mockspike cassette check` replays
        uploads it cannot repeat). Its bytes are a placeholder: the contract reads a file's
        type, never its bytes."""
        content = b"recorded upload"
        stored = StoredFile(file_id, filename, mime_type, len(content), now)
        self._keep(stored, content)
        return stored

    @abc.abstractmethod
    def _keep(self, stored: StoredFile, content: bytes) -> None: ...

    @abc.abstractmethod
    def delete(self, file_id: str) -> None:
        """Forget the file (the API's 404 when there is none)."""

    @abc.abstractmethod
    def find(self, file_id: str) -> StoredFile | None: ...

    @abc.abstractmethod
    def content(self, file_id: str) -> bytes: ...

    @abc.abstractmethod
    def list(self) -> list[StoredFile]:
        """Oldest first."""

    def clear(self) -> None:
        for stored in self.list():
            self.delete(stored.id)

    def get(self, file_id: str, now: float | None = None) -> StoredFile:
        """The file's metadata; unknown, deleted or expired is the API's 404."""
        stored = self.find(file_id)
        if stored is None or (
            now is not None and stored.expires_at is not None and now >= stored.expires_at
        ):
            raise not_found(file_id)
        return stored

    def __len__(self) -> int:
        return len(self.list())

    def __iter__(self) -> Iterator[StoredFile]:
        return iter(self.list())

    # -- file sources in Messages requests ----------------------------------------------

    def resolve(self, body: dict[str, Any], now: float) -> dict[str, Any]:
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
                    self._inline(block, now)
                    for inner in _tool_result_blocks(block):
                        self._inline(inner, now)
        return resolved

    def _inline(self, block: dict[str, Any], now: float) -> None:
        source = block.get("source")
        kind = block.get("type")
        if not (isinstance(source, dict) and source.get("type") == "file"):
            return
        if kind not in ("image", "document"):
            return
        file_id = str(source.get("file_id", ""))
        stored = self.get(file_id, now)
        mime = stored.mime_type
        binary = (kind == "image" and mime in _IMAGE_TYPES) or (kind == "document" and mime == _PDF)
        if binary:
            data = base64.b64encode(self.content(file_id)).decode("ascii")
            block["source"] = {"type": "base64", "media_type": mime, "data": data}
        elif kind == "document" and mime.startswith("text/"):
            text = self.content(file_id).decode("utf-8", errors="replace")
            block["source"] = {"type": "text", "media_type": _TEXT_DOCUMENT, "data": text}
        else:
            raise ApiError(
                400,
                f"File {file_id} has mime type {mime}, which {kind} blocks cannot hold.",
            )


class FileStore(FileStorage):
    """Files in this process: bytes in memory or in `directory`. Thread-safe."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}
        self._content: dict[str, bytes] = {}
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            found = (self._load(p) for p in self.directory.glob("file_*.json"))
            for stored in sorted((f for f in found if f), key=lambda f: f.created_at):
                self._files[stored.id] = stored

    @staticmethod
    def _load(path: Path) -> StoredFile | None:
        try:
            return StoredFile(**json.loads(path.read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            return None  # not one of ours: leave it alone

    def _keep(self, stored: StoredFile, content: bytes) -> None:
        with self._lock:
            if self.directory is not None:
                (self.directory / stored.id).write_bytes(content)
                (self.directory / f"{stored.id}.json").write_text(json.dumps(asdict(stored)))
            else:
                self._content[stored.id] = content
            self._files[stored.id] = stored

    def delete(self, file_id: str) -> None:
        with self._lock:
            if self._files.pop(file_id, None) is None:
                raise not_found(file_id)
            self._content.pop(file_id, None)
            if self.directory is not None:
                for path in (self.directory / file_id, self.directory / f"{file_id}.json"):
                    path.unlink(missing_ok=True)

    def find(self, file_id: str) -> StoredFile | None:
        return self._files.get(file_id)

    def content(self, file_id: str) -> bytes:
        if self.directory is not None:
            try:
                return (self.directory / file_id).read_bytes()
            except FileNotFoundError:
                raise not_found(file_id) from None
        try:
            return self._content[file_id]
        except KeyError:
            raise not_found(file_id) from None

    def list(self) -> list[StoredFile]:
        with self._lock:
            return list(self._files.values())

    def __len__(self) -> int:
        return len(self._files)


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


def too_large() -> ApiError:
    return ApiError(413, f"File exceeds the {MAX_FILE_BYTES // (1024 * 1024)} MB limit.")


def guess_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


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
