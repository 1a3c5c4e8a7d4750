"""Ids shaped like the API's: a prefix and base58 characters."""

from __future__ import annotations

import os
import threading

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
#: Each byte value to one id character (a byte table makes ids cheap on the hot path).
_TABLE = bytes(ord(ALPHABET[value % len(ALPHABET)]) for value in range(256))


def from_bytes(data: bytes, size: int) -> str:
    """`size` id characters from `size` bytes (a digest, or random bytes)."""
    return data[:size].translate(_TABLE).decode("ascii")


class _Pool:
    """Random bytes from the OS, read 4 KiB at a time rather than one system call an id
    (ids must be unpredictable enough to be unique, and they are made for every request).
    A forked child drops the bytes it inherited, so no two processes hand out the same."""

    SIZE = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data = b""
        self._at = 0

    def take(self, size: int) -> bytes:
        with self._lock:
            if self._at + size > len(self._data):
                self._data, self._at = os.urandom(max(self.SIZE, size)), 0
            start = self._at
            self._at += size
            return self._data[start : self._at]

    def forget(self) -> None:
        self._data, self._at = b"", 0


_pool = _Pool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_pool.forget)


def random_id(prefix: str, size: int) -> str:
    return prefix + from_bytes(_pool.take(size), size)


def request_id() -> str:
    """A `request-id`, as the API's look (`req_011C…`)."""
    return random_id("req_011C", 20)
