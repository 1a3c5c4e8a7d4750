"""Ids shaped like the API's: a prefix and base58 characters."""

from __future__ import annotations

import secrets

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
#: Each byte value to one id character (a byte table makes ids cheap on the hot path).
_TABLE = bytes(ord(ALPHABET[value % len(ALPHABET)]) for value in range(256))


def from_bytes(data: bytes, size: int) -> str:
    """`size` id characters from `size` bytes (a digest, or random bytes)."""
    return data[:size].translate(_TABLE).decode("ascii")


def random_id(prefix: str, size: int) -> str:
    return prefix + from_bytes(secrets.token_bytes(size), size)
