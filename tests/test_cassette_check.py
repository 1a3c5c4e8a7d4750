"""`mockspike cassette check` on the 2026 surface: recorded compaction blocks and advisor
results are answers the contract knows, a file uploaded earlier in the cassette is followed by
id, `count_tokens` on a model the contract does not know is flagged, and a recording made
before a model retired is judged as the API judged it then."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from mockspike.cassettes.format import Cassette

MESSAGES = [{"role": "user", "content": "Summarise our chat so far."}]


def _check(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockspike", "cassette", "check", str(path), *options],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _message(content: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "msg_01XYZ",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-7",
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 40},
    }


def _cassette(
    tmp_path: Path, *pairs: tuple[dict[str, Any], dict[str, Any]], name: str = "recorded.json"
) -> Path:
    path = tmp_path / name
    cassette = Cassette.load(path)
    for request, response in pairs:
        cassette.add({"headers": {}, **request}, {"headers": {}, **response})
    cassette.save()
    return path


def _post(path: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"method": "POST", "path": path, "body": body}


def test_compaction_blocks_and_advisor_results_are_answers_the_contract_knows(
    tmp_path: Path,
) -> None:
    """The shapes of anthropic 2.17's `BetaCompactionBlock` and `BetaAdvisorToolResultBlock`
    (an `advisor_result`, and a redacted one)."""
    compaction = {
        "type": "compaction",
        "content": "The user asked for a summary of the deployment plan.",
        "encrypted_content": None,
        "signature": "EpYBCkYIBxgCKkC",
    }
    advice = [
        {"type": "server_tool_use", "id": "srvtoolu_01A", "name": "advisor", "input": {}},
        {
            "type": "advisor_tool_result",
            "tool_use_id": "srvtoolu_01A",
            "content": {"type": "advisor_result", "text": "Check the rollback path first."},
        },
        {"type": "text", "text": "Here is the summary."},
    ]
    body = {"model": "claude-opus-4-7", "max_tokens": 1024, "messages": MESSAGES}
    path = _cassette(
        tmp_path,
        (_post("/v1/messages", body), {"status": 200, "body": _message([compaction])}),
        (_post("/v1/messages", body), {"status": 200, "body": _message(advice)}),
    )
    result = _check(path)
    assert result.returncode == 0, result.stdout
    assert "2 interactions, 0 inconsistent with the contract" in result.stdout


def test_a_file_uploaded_earlier_in_the_cassette_is_followed(tmp_path: Path) -> None:
    upload = {"method": "POST", "path": "/v1/files", "body": None}
    metadata = {
        "type": "file",
        "id": "file_011CRecorded0000000001",
        "filename": "notes.txt",
        "mime_type": "text/plain",
        "size_bytes": 120,
        "created_at": "2026-11-30T10:00:00Z",
        "downloadable": False,
    }
    document = {
        "type": "document",
        "source": {"type": "file", "file_id": "file_011CRecorded0000000001"},
    }
    asks = [{"role": "user", "content": [document, {"type": "text", "text": "Summarise."}]}]
    body = {"model": "claude-opus-4-7", "max_tokens": 1024, "messages": asks}
    reply = _message([{"type": "text", "text": "A summary."}])
    headers = {"anthropic-beta": "files-api-2025-04-14"}
    ask = {**_post("/v1/messages", body), "headers": headers}
    answered = {"status": 200, "body": reply}
    path = _cassette(tmp_path, (upload, {"status": 200, "body": metadata}), (ask, answered))
    result = _check(path)
    assert result.returncode == 0, result.stdout
    unknown = _check(_cassette(tmp_path, (ask, answered), name="without-upload.json"))
    assert unknown.returncode == 1
    assert "File not found: file_011CRecorded0000000001" in unknown.stdout


def test_count_tokens_on_a_model_the_contract_does_not_serve_is_flagged(tmp_path: Path) -> None:
    body = {"model": "claude-opus-9", "messages": MESSAGES}
    path = _cassette(
        tmp_path,
        (_post("/v1/messages/count_tokens", body), {"status": 200, "body": {"input_tokens": 9}}),
    )
    result = _check(path)
    assert result.returncode == 1
    assert (
        "interaction 0: recorded 200, but the contract answers 404 not_found_error: "
        "model: claude-opus-9" in result.stdout
    )


def test_a_model_retired_since_the_recording_is_judged_as_it_was_then(tmp_path: Path) -> None:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": MESSAGES}
    reply = {**_message([{"type": "text", "text": "Hi."}]), "model": "claude-sonnet-4-5-20250929"}
    path = _cassette(tmp_path, (_post("/v1/messages", body), {"status": 200, "body": reply}))
    assert _check(path).returncode == 1  # the gateway never served it
    result = _check(path, "--profile", "anthropic")
    assert result.returncode == 0, result.stdout
