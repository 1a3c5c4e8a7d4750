"""Cassette files on disk: read and shape-checked, locked across processes, written through
symlinks atomically.

- **Shape**: a document is checked against `cassette.schema.json` when read (jsonschema-rs
  for the common valid case; jsonschema only to explain a refusal), so a file of the wrong
  shape is refused with the entry and the problem, never replayed into a 500.
- **Lock**: a `filelock` lock file beside the cassette (`.NAME.json.lock`, made the first
  time the cassette is saved, and kept: removing a lock file another process may be waiting
  on would let two writers in) serialises writers in every process; the recorder merges with
  what is on disk while holding it.
- **Write**: a temporary file (`.NAME.<random>.tmp`) in the *target's* directory, fsync,
  then `os.replace` onto the target: a symlinked cassette stays a link and its target gets
  the data; a failed write (a full disk) leaves the previous file as it was.
- **Leftovers**: temporary files a killed writer left behind are removed the next time the
  cassette is opened (under the lock, so a live writer's file is never touched).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import json
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import filelock
import orjson
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match

FORMAT_VERSION = 1
LOCK_TIMEOUT = 30.0
"""Seconds a writer waits for another process's save before giving up with a clear error."""


class CassetteError(ValueError):
    """A cassette file that cannot be read, or a setting that makes no sense."""


Signature = tuple[int, int, int]
"""What identifies one version of a file on disk: inode, size, modification time (ns)."""


def target(path: Path) -> Path:
    """The file a cassette path really names: symlinks followed (even dangling ones)."""
    return Path(os.path.realpath(path))


def signature(path: Path) -> Signature | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


# -- reading ----------------------------------------------------------------------------


def read(path: Path) -> dict[str, Any] | None:
    """The cassette document at `path`, checked; None when there is no file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CassetteError(f"{path}: not a valid cassette (JSON): {exc}") from None
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        found = document.get("version") if isinstance(document, dict) else "?"
        raise CassetteError(
            f"{path}: not a version {FORMAT_VERSION} mockspike cassette (found version {found})"
        )
    check_shape(document, path)
    return document


@functools.cache
def schema() -> dict[str, Any]:
    """The cassette format as a JSON Schema (`cassettes/cassette.schema.json`)."""
    text = resources.files(__package__).joinpath("cassette.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@functools.cache
def _fast_check() -> Callable[[Any], bool]:
    from mockspike.contract.compiled import compile_schema

    return compile_schema(schema())


def check_shape(document: Any, path: Path | str) -> None:
    """Refuse a document that is not a cassette, naming the entry and the problem."""
    if _fast_check()(document):
        return
    error = best_match(Draft202012Validator(schema()).iter_errors(document))
    if error is None:  # the two validators disagree: trust the detailed one
        return
    raise CassetteError(f"{path}: not a valid cassette: {_where(error)}: {_problem(error)}")


def _where(error: ValidationError) -> str:
    steps = list(error.absolute_path)
    if len(steps) >= 2 and steps[0] == "interactions":
        rest = ".".join(str(s) for s in steps[2:])
        return f"interaction {steps[1]}" + (f" ({rest})" if rest else "")
    return ".".join(str(s) for s in steps) or "the top level"


_TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
}


def _problem(error: ValidationError) -> str:
    kind = error.validator
    expected: Any = error.validator_value
    found: Any = error.instance
    if kind == "required":
        missing = [name for name in expected if name not in found]
        return f"{', '.join(repr(m) for m in missing)} is missing"
    if kind == "anyOf" and isinstance(found, dict) and "status" in found:
        return "the response has no content: neither 'body' nor 'events'"
    if kind == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        names = " or ".join(_TYPE_NAMES.get(str(w), str(w)) for w in wanted)
        return f"must be {names}, not {_short(found)}"
    if kind in ("minimum", "maximum"):
        return f"{_short(found)} is out of range ({kind} {expected})"
    if kind == "pattern" and expected == HEADER_NAME:
        return (
            f"the header name {_short(found)} is not an HTTP token (letters, digits and "
            "!#$%&'*+-.^_`|~, no spaces)"
        )
    if kind == "pattern" and expected == HEADER_VALUE:
        return (
            f"the header value {_short(found)} must be one line of latin-1 text (no CR, LF "
            "or other control characters, no character beyond U+00FF)"
        )
    if kind == "pattern":
        return f"{_short(found)} must match {expected}"
    if kind == "minLength":
        return "must not be empty"
    if kind == "const":
        return f"must be {_short(expected)}, not {_short(found)}"
    return error.message[:200]


HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
HEADER_VALUE = "^[\\t\\x20-\\x7e\\x80-\\xff]*$"
"""The schema's patterns for header names and values (`cassette.schema.json`)."""


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


# -- locking and writing -----------------------------------------------------------------


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def locked(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the cross-process lock of the cassette file `path` (a resolved target)."""
    lock = filelock.FileLock(lock_path(path), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise CassetteError(
            f"{path}: another process has held the cassette's lock ({lock_path(path)}) for "
            f"{timeout:g} s"
        ) from None
    try:
        yield
    finally:
        lock.release()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, rename it onto `path`. On
    any failure the temporary file is removed and `path` is untouched. Keeps the mode of
    the file it replaces; a new file gets the umask's mode (0644 under the usual 022), as
    any file the user writes, so a checkout's other users can replay it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = _create_temp(path)
    try:
        try:
            with contextlib.suppress(FileNotFoundError):
                os.fchmod(fd, stat.S_IMODE(os.stat(path).st_mode))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _create_temp(path: Path) -> tuple[int, str]:
    """A new `.NAME.<random>.tmp` beside `path`, opened as `mkstemp` opens one but with mode
    0666 less the umask (the kernel applies it, so no thread ever changes the umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temp = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"{path.parent}: no free temporary name for {path.name}")


def leftovers(path: Path) -> list[Path]:
    """Temporary files of `path` a killed writer left behind."""
    pattern = glob.escape(f".{path.name}.") + "*.tmp"
    return sorted(path.parent.glob(pattern))


def clean_leftovers(path: Path) -> None:
    """Remove what `leftovers` finds, under the lock (no live writer has a temp file then).
    Best effort: a read-only folder (a replay-only CI checkout) is left as it is."""
    if not leftovers(path):
        return
    with contextlib.suppress(OSError, CassetteError), locked(path, timeout=5.0):
        for temp in leftovers(path):
            temp.unlink(missing_ok=True)
