"""The HTTP edge's decisions as pure functions: no socket, no SDK."""

from __future__ import annotations

import orjson
import pytest

from mockspike import _json
from mockspike._redact import REDACTED, Redaction
from mockspike.adapters.bounds import Bounds
from mockspike.adapters.guard import (
    Access,
    bind_warning,
    host_allowed,
    is_loopback,
    refusal,
    same_origin,
)
from mockspike.state.journal import Entry, Journal

LOCAL = {"host": "127.0.0.1:8000"}


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1", "localhost", "a.localhost"],
)
def test_every_loopback_spelling_is_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.1", "::ffff:10.0.0.1", "evil.test", ""])
def test_other_addresses_are_not(host: str) -> None:
    assert not is_loopback(host)
    assert bind_warning(host, None)


def test_host_names_an_ip_localhost_or_an_allowed_name() -> None:
    access = Access.of(allowed_hosts=["Dev.Example."])
    for host in ("127.0.0.1:80", "[::1]:8000", "192.0.2.7", "localhost:1", "dev.example:9"):
        assert host_allowed(host, access), host
    for host in ("rebound.test", "127.0.0.1.nip.io:80", "", "localhost.evil.test"):
        assert not host_allowed(host, access), host


def test_same_origin_compares_scheme_host_and_port() -> None:
    assert same_origin("http://127.0.0.1:8000", "http", "127.0.0.1:8000")
    assert same_origin("http://localhost", "http", "localhost:80")
    assert not same_origin("http://127.0.0.1:8001", "http", "127.0.0.1:8000")
    assert not same_origin("https://127.0.0.1:8000", "http", "127.0.0.1:8000")
    assert not same_origin("null", "http", "127.0.0.1:8000")


def _refused(access: Access, method: str = "GET", client: str = "127.0.0.1", **headers: str) -> int:
    found = refusal(access, method=method, headers={**LOCAL, **headers}, client=client)
    return found[0] if found else 200


def test_refusals() -> None:
    open_ = Access()
    assert _refused(open_) == 200
    assert _refused(open_, client="::ffff:127.0.0.1") == 200
    assert _refused(open_, client="192.0.2.1") == 403
    assert _refused(open_, host="rebound.test") == 403
    assert _refused(open_, origin="http://evil.test") == 403
    assert _refused(open_, "OPTIONS") == 405
    assert _refused(open_, "POST", **{"content-type": "text/plain"}) == 415
    assert _refused(open_, "POST", **{"content-type": "application/json; charset=utf-8"}) == 200
    token = Access.of("s3cret")
    assert _refused(token, client="192.0.2.1") == 403
    assert _refused(token, client="192.0.2.1", **{"x-mockspike-admin-token": "s3cret"}) == 200
    assert _refused(token, **{"x-mockspike-admin-token": "s3cres"}) == 403
    assert _refused(token, **{"x-mockspike-admin-token": "sécret"}) == 403  # non-ASCII: no crash


def test_bounds_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="header_timeout"):
        Bounds(header_timeout=float("inf"))
    with pytest.raises(ValueError, match="max_connections"):
        Bounds(max_connections=0)


def test_orjson_writes_the_depth_the_limit_relies_on() -> None:
    value: object = 1
    for _ in range(_json._WRITE_DEPTH):
        value = [value]
    orjson.dumps(value)
    with pytest.raises(orjson.JSONEncodeError):
        orjson.dumps([value])


def test_depth_limit() -> None:
    depth = _json.MAX_DEPTH
    assert _json.loads("[" * depth + "]" * depth)
    assert _json.loads(b'["' + b"[" * 500 + b'"]') == ["[" * 500]  # brackets in strings
    for too_deep in (depth + 1, 1025, 5000):
        with pytest.raises(_json.JSONDecodeError, match=f"more than {depth} levels"):
            _json.loads("[" * too_deep + "]" * too_deep)


def _entry(body: dict[str, object] | None = None) -> Entry:
    headers = {"x-api-key": "sk-secret", "x-team": "blue", "anthropic-version": "1"}
    return Entry("POST", "/v1/messages", headers, body)


def test_journal_redacts_with_the_cassette_redaction() -> None:
    journal = Journal(redaction=Redaction.of(["x-team"], ["metadata.user_id"]))
    body = {"model": "m", "metadata": {"user_id": "u-123"}}
    journal.append(_entry(body), b"{}")
    entry = journal.last
    assert entry.headers == {"x-api-key": REDACTED, "x-team": REDACTED, "anthropic-version": "1"}
    assert entry.body == {"model": "m", "metadata": {"user_id": REDACTED}}
    assert body["metadata"] == {"user_id": "u-123"}  # the caller's value is untouched
    raw = Journal(redaction=None)
    raw.append(_entry(), b"")
    assert raw.last.headers["x-api-key"] == "sk-secret"


def test_journal_keeps_the_newest_within_count_and_bytes() -> None:
    journal = Journal(max_entries=3, max_bytes=250, summary_bytes=200)
    for number in range(5):
        journal.append(_entry({"n": number}), b"x" * 100)
    assert [e.body for e in journal] == [{"n": 3}, {"n": 4}]  # 2 x 100 bytes fit in 250
    assert journal.dropped == 3
    journal.append(_entry({"n": 9}), b"y" * 5000)
    summary = journal.last.body_summary
    assert journal.last.body is None and summary and summary["bytes"] == 5000
    assert summary["prefix"] == '{"n":9}'
    journal.clear()
    assert len(journal) == 0 and journal.dropped == 0
