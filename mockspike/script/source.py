"""A script source: one script file, or a folder of them, loaded as one script and (with
`mockspike serve --watch`) loaded again when it changes.

A folder's `*.json`, `*.yaml` and `*.yml` files are read in name order, their rules one
after another. A source that does not load (a file that is not valid, a rule that is not)
is refused as a whole, with the file, the rule and the field in the message; whatever was
loaded before stays in force. Changes are found by polling the files' sizes and
modification times (`POLL` seconds): it works the same on bind mounts and network file
systems, where file-change notifications often do not arrive.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockspike._json import canonical
from mockspike.script.files import SpecError, build_rules, load_file

log = logging.getLogger("mockspike")

POLL = 0.25
"""Seconds between looks at the files."""
SUFFIXES = (".json", ".yaml", ".yml")


@dataclass(frozen=True)
class Loaded:
    """A source's rules as one script: `{"rules": [...]}`, its digest (the same for the same
    rules, whatever the files' layout), and how many rules came from each file."""

    spec: dict[str, Any]
    digest: str
    files: tuple[tuple[str, int], ...]

    def summary(self) -> str:
        return ", ".join(f"{name}: {count} rule{'s' * (count != 1)}" for name, count in self.files)


class ScriptSource:
    """The files of a `--script` path."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def files(self) -> list[Path]:
        if self.path.is_dir():
            return sorted(p for p in self.path.iterdir() if p.suffix in SUFFIXES and p.is_file())
        return [self.path]

    def signature(self) -> tuple[tuple[str, int, int], ...]:
        """What changes when a file is written, added or removed (cheap: no reading)."""
        found = []
        for file in self.files():
            try:
                stat = file.stat()
            except OSError:  # removed meanwhile: the next look sees it gone
                continue
            found.append((file.name, stat.st_mtime_ns, stat.st_size))
        return tuple(found)

    def load(self, check: Callable[..., Any]) -> Loaded:
        """Read and check every file (`check(**on_args)` builds a rule without adding it);
        a `SpecError` that names the file when any is wrong."""
        rules: list[Any] = []
        counts = []
        files = self.files()
        if self.path.is_dir() and not files:
            raise SpecError(f"{self.path}: no script files ({', '.join(SUFFIXES)}) in it")
        for file in files:
            where = file.name if self.path.is_dir() else str(file)
            try:
                spec = load_file(file)
                build_rules(spec, check)
            except (OSError, ValueError, TypeError) as exc:
                raise SpecError(f"{where}: {exc}" if where not in str(exc) else str(exc)) from None
            items = spec.get("rules", [spec])
            rules += items
            counts.append((where, len(items)))
        spec = {"rules": rules}
        return Loaded(spec, hashlib.sha256(canonical(spec)).hexdigest(), tuple(counts))


@dataclass
class Reload:
    """How the last look at a watched source went, for the log, the admin API and the
    dashboard."""

    path: str
    rules: int = 0
    loaded_at: float | None = None
    files: tuple[tuple[str, int], ...] = ()
    error: str | None = None
    """Why the newest version was refused (None: the rules in force are the newest)."""
    applied: bool = False
    """The last load put its rules in force (False: a shared state already had them)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "rules": self.rules,
            "loaded_at": self.loaded_at,
            "files": [{"name": n, "rules": c} for n, c in self.files],
            "error": self.error,
            "applied": self.applied,
        }


class Watcher:
    """Loads a source into a fake, then again whenever its files change, on a daemon
    thread; `apply(loaded)` puts the rules in force (atomically: a request sees the old
    rules or the new, never half)."""

    def __init__(
        self,
        source: ScriptSource,
        check: Callable[..., Any],
        apply: Callable[[Loaded], bool],
        poll: float = POLL,
    ) -> None:
        self.source, self._check, self._apply, self.poll = source, check, apply, poll
        self.status = Reload(str(source.path))
        self._seen: tuple[tuple[str, int, int], ...] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self) -> bool:
        """One look: load the source if it changed since the last. True when new rules
        were put in force."""
        signature = self.source.signature()
        if signature == self._seen:
            return False
        self._seen = signature
        try:
            loaded = self.source.load(self._check)
        except SpecError as exc:
            self.status.error = str(exc)
            count = self.status.rules
            folder = "" if str(exc).startswith(str(self.source.path)) else f"{self.source.path}/"
            log.warning(
                "mockspike: not reloaded: %s%s; the %d rule%s loaded before stay%s in force",
                folder,
                exc,
                count,
                "s" * (count != 1),
                "s" * (count == 1),
            )
            return False
        applied = self.status.applied = self._apply(loaded)
        reloaded = self.status.loaded_at is not None
        self.status.rules = len(loaded.spec["rules"])
        self.status.files = loaded.files
        self.status.loaded_at = time.time()
        self.status.error = None
        if applied and reloaded:  # the first load is the start-up's, said by its banner
            log.warning("mockspike: reloaded %s (%s)", self.source.path, loaded.summary())
        return applied

    def start(self) -> Watcher:
        self._thread = threading.Thread(target=self._run, name="mockspike-watch", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.load()
            except Exception:  # a state that is away for a moment: try again next look
                self._seen = None
                log.exception("mockspike: reloading %s failed", self.source.path)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
