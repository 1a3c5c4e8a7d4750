"""The files store: uploaded files (their metadata, `StoredFile`, and their bytes), by
id in upload order — in memory, in a directory (`MockSpike(files_dir=...)`, `serve
--files-dir`: each file's bytes in `<id>` and its metadata in `<id>.json`, so a directory
outlives the process), or in Redis with a shared state (`state/redis/files.py`). The
multipart upload and the file sources of Messages requests are `engine/files.py`.
"""

from __future__ import annotations

import abc
import json
import mimetypes
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mockspike._ids import random_id
from mockspike.model.clock import rfc3339
from mockspike.model.errors import ApiError

MAX_FILE_BYTES = 500 * 1024 * 1024
"""The API's limit for one file: 500 MB."""


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


def too_large() -> ApiError:
    return ApiError(413, f"File exceeds the {MAX_FILE_BYTES // (1024 * 1024)} MB limit.")


def guess_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


class FileStore(abc.ABC):
    """Files by id, newest last. A store implements keeping, finding, reading, listing and
    deleting; adding (the id, the type, the size cap) and expiry are the same for all."""

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
        self.keep(stored, content)
        return stored

    def restore(self, file_id: str, filename: str, mime_type: str, *, now: float) -> StoredFile:
        """Keep a file under the id a recording gave it (`mockspike cassette check` replays
        uploads it cannot repeat). Its bytes are a placeholder: the contract reads a file's
        type, never its bytes."""
        content = b"recorded upload"
        stored = StoredFile(file_id, filename, mime_type, len(content), now)
        self.keep(stored, content)
        return stored

    @abc.abstractmethod
    def keep(self, stored: StoredFile, content: bytes) -> None: ...

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


class MemoryFiles(FileStore):
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

    def keep(self, stored: StoredFile, content: bytes) -> None:
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
