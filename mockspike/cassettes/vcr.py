"""vcrpy / pytest-recording YAML cassettes of Messages traffic: imported into mockspike's
format, and exported back to it (a stream as its SSE text, headers as lists, the status with
its reason phrase), so a team can move either way."""

from __future__ import annotations

import gzip
import zlib
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mockspike import _json
from mockspike.cassettes.format import Cassette, CassetteError, request_record
from mockspike.render import sse


def import_vcr(source: Path, target: Path) -> int:
    """Convert a vcrpy / pytest-recording YAML cassette of Messages traffic."""
    import yaml

    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CassetteError(f"{source}: not a YAML cassette: {exc}") from None
    if isinstance(data, dict) and "version" in data and "recorded_with" in data:
        raise CassetteError(f"{source} is already a mockspike cassette: use it as it is")
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"{source}: no 'interactions' list (is it a vcrpy cassette?)")
    for number, interaction in enumerate(data["interactions"]):
        request = interaction.get("request") if isinstance(interaction, dict) else None
        if not isinstance(request, dict) or not {"method", "uri"} <= set(request):
            raise CassetteError(
                f"{source}: interaction {number} has no request method and uri "
                "(is it a vcrpy cassette?)"
            )
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


EXPORT_BASE_URL = "https://api.anthropic.com"
"""The host exported requests name (a mockspike cassette keeps paths, not hosts)."""


def export_vcr(source: Path, target: Path, base_url: str = EXPORT_BASE_URL) -> int:
    """Write the mockspike cassette `source` as a vcrpy YAML cassette at `target`."""
    import yaml

    if not source.exists():
        raise CassetteError(f"{source}: no such cassette")
    if target.exists():
        raise CassetteError(f"{target} exists; not overwriting it")
    cassette = Cassette.load(source)
    interactions = [
        {
            "request": _vcr_request(i["request"], base_url.rstrip("/")),
            "response": _vcr_out(i["response"]),
        }
        for i in cassette.interactions
    ]
    text = yaml.safe_dump(
        {"interactions": interactions, "version": 1}, sort_keys=False, allow_unicode=True
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"exported {len(interactions)} interactions into {target}")
    return 0


def _vcr_request(request: dict[str, Any], base_url: str) -> dict[str, Any]:
    body = request.get("body")
    return {
        "body": body if isinstance(body, str) or body is None else _json.dumps(body).decode(),
        "headers": {k: [str(v)] for k, v in (request.get("headers") or {}).items()},
        "method": request["method"],
        "uri": base_url + request["path"],
    }


def _vcr_out(response: dict[str, Any]) -> dict[str, Any]:
    status = int(response["status"])
    if "events" in response:
        raw = b"".join(sse.frame(e["event"], e["data"]) for e in response["events"])
    else:
        body = response.get("body")
        raw = body.encode() if isinstance(body, str) else _json.dumps(body)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return {
        "body": {"string": raw.decode("utf-8")},
        "headers": {k: [str(v)] for k, v in (response.get("headers") or {}).items()},
        "status": {"code": status, "message": phrase},
    }
