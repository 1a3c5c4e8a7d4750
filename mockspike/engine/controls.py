"""`fake.batches` and `fake.files`: inspect, script and clear the Message Batches and the
Files a fake holds (the admin API maps onto these)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mockspike import _json
from mockspike.engine import batches_api
from mockspike.engine.context import Services
from mockspike.state.batches import BatchSettings


class Batches:
    """The fake's Message Batches.

    >>> from mockspike import MockSpike
    >>> fake = MockSpike(profile="anthropic")
    >>> fake.batches.settings(processing_seconds=3600)  # doctest: +ELLIPSIS
    BatchSettings(processing_seconds=3600, ...)
    >>> len(fake.batches)
    0
    """

    def __init__(self, services: Services) -> None:
        self._services = services

    def settings(self, **changes: Any) -> BatchSettings:
        """Change how batches created from now on are processed: `processing_seconds`
        (spread over the requests; longer than the expiry leaves the rest `expired`),
        `canceling_seconds`, `expiry_seconds` (the API's 24 h). No arguments: the current
        settings."""
        return self._services.batches.configure(**changes)

    def get(self, batch_id: str) -> dict[str, Any]:
        """A batch as `GET /v1/messages/batches/{id}` shows it now (processing what is due)."""
        return batches_api.looked_at(self._services, batch_id).to_json()

    def results(self, batch_id: str) -> list[dict[str, Any]]:
        """An ended batch's results, parsed (`{"custom_id", "result"}` each)."""
        batch = batches_api.looked_at(self._services, batch_id)
        return [_json.loads(line) for chunk in batch.results() for line in chunk.splitlines()]

    def list(self) -> list[dict[str, Any]]:
        """Every batch, newest first, as the API shows them now."""
        return [self.get(batch_id) for batch_id in self._services.batches.ids()]

    def clear(self) -> None:
        """Forget every batch."""
        self._services.batches.clear()

    def __len__(self) -> int:
        return len(self._services.batches)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.list())


class Files:
    """The fake's Files API storage (in memory, or `MockSpike(files_dir=...)`)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def add(
        self,
        content: bytes,
        filename: str,
        mime_type: str | None = None,
        *,
        downloadable: bool = True,
    ) -> dict[str, Any]:
        """Store a file as if a tool (code execution, a skill) had created it: such files
        are downloadable, uploaded ones are not. Returns its metadata (`["id"]`)."""
        stored = self._services.files.add(
            content,
            filename,
            mime_type,
            now=self._services.clock.now(),
            downloadable=downloadable,
        )
        return stored.metadata()

    def get(self, file_id: str) -> dict[str, Any]:
        return self._services.files.get(file_id).metadata()

    def content(self, file_id: str) -> bytes:
        self._services.files.get(file_id)
        return self._services.files.content(file_id)

    def list(self) -> list[dict[str, Any]]:
        """Every file's metadata, newest first."""
        return [f.metadata() for f in reversed(self._services.files.list())]

    def delete(self, file_id: str) -> None:
        self._services.files.delete(file_id)

    def clear(self) -> None:
        """Delete every file (in `files_dir` too)."""
        self._services.files.clear()

    def __len__(self) -> int:
        return len(self._services.files)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.list())
