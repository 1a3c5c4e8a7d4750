"""Ids shaped like the API's: a prefix and base58 characters."""

from __future__ import annotations

import secrets

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58(number: int, size: int) -> str:
    """`size` characters of the id alphabet, from the low digits of `number`."""
    chars = []
    for _ in range(size):
        number, rest = divmod(number, 58)
        chars.append(ALPHABET[rest])
    return "".join(chars)


def random_id(prefix: str, size: int) -> str:
    return prefix + base58(int.from_bytes(secrets.token_bytes(24), "big"), size)
