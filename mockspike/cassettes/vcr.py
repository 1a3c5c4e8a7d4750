"""Importing vcrpy / pytest-recording YAML cassettes of Messages traffic."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import _json
from ..render import sse
from .format import Cassette, CassetteError, request_record


def import_vcr(source: Path, target: Path) -> int:
    """Convert a vcrpy / pytest-recording YAML cassette of Messages traffic."""
    import yaml

    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CassetteError(f"{source}: not a YAML cassette: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"{source}: no 'interactions' list (is it a vcrpy cassette?)")
    if target.exists():
        raise CassetteError(f"{target} exists; not overwriting it")
    cassette = Cassette.load(target)
    for interaction in data["interactions"]:
        request, response = interaction["request"], interaction["response"]
        headers = {k.lower(): _first(v) for k, v in (request.get("headers") or {}).items()}
        parsed = request.get("parsed_body")  # pydantic-ai's cassettes keep the body parsed
        raw = _json.dumps(parsed) if parsed is not None else _bytes(request.get("body"))
        record = request_record(request["method"], urlsplit(request["uri"]).path, headers, raw)
        cassette.add(record, _vcr_response(response))
    cassette.save()
    print(f"imported {len(cassette.interactions)} interactions into {target}")
    return 0


def _vcr_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = {k.lower(): _first(v) for k, v in (response.get("headers") or {}).items()}
    body = response.get("body")
    if response.get("parsed_body") is not None:
        body = _json.dumps(response["parsed_body"])
    raw = _bytes(body.get("string") if isinstance(body, dict) else body)
    encoding = headers.pop("content-encoding", "")
    if encoding == "gzip":
        raw = gzip.decompress(raw)
    elif encoding == "deflate":
        raw = zlib.decompress(raw)
    status = response.get("status", {})
    out: dict[str, Any] = {
        "status": status.get("code", 200) if isinstance(status, dict) else status,
        "headers": headers,
    }
    if headers.get("content-type", "").startswith("text/event-stream"):
        out["events"] = [{"t": 0.0, "event": name, "data": data} for name, data in sse.parse(raw)]
    else:
        out["body"] = _json.loads_or_text(raw)
    return out


def _first(value: Any) -> str:
    return str(value[0]) if isinstance(value, list) and value else str(value)


def _bytes(value: Any) -> bytes:
    if value is None:
        return b""
    return value if isinstance(value, bytes) else str(value).encode()
