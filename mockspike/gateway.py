"""Who is calling. Without a configuration any non-empty key is accepted, as documented."""

from __future__ import annotations

from .contract.errors import ApiError
from .wire import WireRequest


def api_key(request: WireRequest) -> str:
    """The caller's key from `x-api-key` or `Authorization: Bearer`; missing is a 401."""
    key = request.header("x-api-key")
    if not key:
        auth = request.header("authorization") or ""
        scheme, _, token = auth.partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else ""
    if not key:
        raise ApiError(401, "x-api-key header is required")
    return key
