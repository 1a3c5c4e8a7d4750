"""The answers handlers build most: a JSON value (the engine adds the request id and the
content type, `application/json` unless the handler set another)."""

from __future__ import annotations

from typing import Any

from mockspike import _json
from mockspike.model.wire import WireResponse

JSON = "application/json"


def json_answer(value: Any, status: int = 200) -> WireResponse:
    """`value` as a JSON body."""
    return WireResponse(status, {}, _json.dumps(value))
