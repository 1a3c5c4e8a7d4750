"""`mockspike serve | validate | --version`, run as real processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockspike import __version__
from tests.conftest import SEED_BODY, serve_process

CLI = [sys.executable, "-m", "mockspike"]


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    with serve_process("--profile", "bytespike") as running:
        yield running


def test_serve_answers_the_seed_curl_example(served: tuple[subprocess.Popen[str], str]) -> None:
    _process, url = served
    response = httpx.post(
        url + "/v1/messages",
        headers={
            "x-api-key": "anything",
            "anthropic-version": "2023-06-01",
            "content-type": "application/json",
        },
        content=json.dumps(SEED_BODY),
    )
    message = response.json()
    assert response.status_code == 200
    assert set(message) >= {"id", "type", "role", "model", "content", "stop_reason", "usage"}
    assert message["id"].startswith("msg_haiku_")
    assert message["model"] == "claude-haiku-4-5"
    assert message["content"][0]["type"] == "text"
    assert message["usage"] == {
        "input_tokens": 18,
        "output_tokens": message["usage"]["output_tokens"],
    }


def test_sigterm_exits_cleanly(served: tuple[subprocess.Popen[str], str]) -> None:
    process, _ = served
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")


def test_sigint_exits_cleanly(served: tuple[subprocess.Popen[str], str]) -> None:
    process, _ = served
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")


def test_port_in_use_is_a_clear_error(served: tuple[subprocess.Popen[str], str]) -> None:
    _, url = served
    port = url.rsplit(":", 1)[1]
    result = subprocess.run(
        [*CLI, "serve", "--port", port], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_ok(tmp_path: Path) -> None:
    path = tmp_path / "body.json"
    path.write_text(json.dumps(SEED_BODY))
    result = subprocess.run([*CLI, "validate", str(path)], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "ok\n")


def test_validate_prints_the_envelope_from_stdin() -> None:
    bad = dict(SEED_BODY, max_tokens=9000)
    result = subprocess.run(
        [*CLI, "validate", "-"], input=json.dumps(bad), capture_output=True, text=True
    )
    assert result.returncode == 1
    envelope = json.loads(result.stdout)
    assert envelope["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens: 9000 > 8192, which is the maximum allowed number of output "
        "tokens for claude-haiku-4-5-20251001",
    }
    assert "HTTP 400" in result.stderr


def test_validate_missing_file() -> None:
    result = subprocess.run([*CLI, "validate", "/nonexistent.json"], capture_output=True, text=True)
    assert result.returncode == 2 and "cannot read /nonexistent.json" in result.stderr


def test_version() -> None:
    result = subprocess.run([*CLI, "--version"], capture_output=True, text=True)
    assert result.stdout.strip() == f"mockspike {__version__}"


def test_unknown_profile_is_refused() -> None:
    result = subprocess.run([*CLI, "serve", "--profile", "nope"], capture_output=True, text=True)
    assert result.returncode == 2 and "invalid choice: 'nope'" in result.stderr


def test_serve_with_a_config_file(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text("keys:\n  sk-ok: {wallet: 5}\n  sk-old: {status: revoked}\n")
    with serve_process("--config", str(path)) as (process, url):
        headers = {"anthropic-version": "2023-06-01"}
        ok = httpx.post(
            url + "/v1/messages", json=SEED_BODY, headers={**headers, "x-api-key": "sk-ok"}
        )
        old = httpx.post(
            url + "/v1/messages", json=SEED_BODY, headers={**headers, "x-api-key": "sk-old"}
        )
        assert (ok.status_code, old.status_code) == (200, 401)
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_serve_with_a_broken_config_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "gateway.json"
    path.write_text('{"keys": {"k": {"wallet": -1}}}')
    result = subprocess.run(
        [*CLI, "serve", "--config", str(path)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "keys.k: wallet is a number of credits, at least 0" in result.stderr
    assert "Traceback" not in result.stderr
