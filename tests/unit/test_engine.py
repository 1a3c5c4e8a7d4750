"""The engine on plain `WireRequest`s: routing through the endpoint table (404, 405, key
scopes), the header rules, and the journal entry of every request."""

from __future__ import annotations

import pytest

from mockspike import Engine, GatewayConfig, WireRequest
from mockspike._redact import REDACTED, Redaction
from mockspike.engine.endpoints import ENDPOINTS, ROUTER, SCOPES
from tests.unit.conftest import BODY, HEADERS, error, get, post


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/v1/messages", 200),
        ("POST", "/v1/messages/", 200),
        ("POST", "/v1/messages/count_tokens", 200),
        ("GET", "/v1/models", 200),
        ("GET", "/v1/models/claude-haiku-4-5", 200),
        ("GET", "/v1/models/no-such-model", 404),
        ("GET", "/v1/messages", 405),
        ("DELETE", "/v1/models", 405),
        ("POST", "/v1/models/claude-haiku-4-5", 405),
        ("GET", "/v1/models/a/b", 404),
        ("GET", "/v1/nothing", 404),
        ("GET", "/", 404),
    ],
)
def test_routing(method: str, path: str, status: int) -> None:
    request = post(path) if method == "POST" else WireRequest(method, path, HEADERS)
    response = Engine().handle(request)
    assert response.status == status


def test_every_endpoint_routes_to_its_row() -> None:
    for endpoint in ENDPOINTS:
        path = endpoint.path.replace("{model_id}", "claude-haiku-4-5")
        found, params = ROUTER.route(endpoint.method, path)
        assert found is endpoint
        assert set(params) == set(endpoint.params)


def test_scopes_come_from_the_table() -> None:
    assert SCOPES == (
        "messages",
        "count_tokens",
        "models",
        "message_batches",
        "files",
        "chat_completions",
    )


@pytest.mark.parametrize(
    ("request_", "scope"),
    [
        (post(), "messages"),
        (post("/v1/messages/count_tokens"), "count_tokens"),
        (get("/v1/models"), "models"),
        (get("/v1/models/claude-haiku-4-5"), "models"),
    ],
)
def test_each_endpoint_checks_its_own_key_scope(request_: WireRequest, scope: str) -> None:
    others = [s for s in SCOPES if s != scope]
    config = GatewayConfig.from_dict({"keys": {"sk-unit": {"scopes": {"endpoints": others}}}})
    refused = Engine(config=config).handle(request_)
    assert refused.status == 403
    assert f"use the {scope} endpoint" in error(refused)["message"]
    allowed = GatewayConfig.from_dict({"keys": {"sk-unit": {"scopes": {"endpoints": [scope]}}}})
    assert Engine(config=allowed).handle(request_).status == 200


def test_a_key_config_naming_an_unknown_endpoint_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown endpoint.*batches.*among messages"):
        GatewayConfig.from_dict({"keys": {"k": {"scopes": {"endpoints": ["batches"]}}}})


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"anthropic-version": ""}, "anthropic-version: header is required"),
        ({"content-type": "text/plain"}, "Unsupported content-type 'text/plain'"),
    ],
)
def test_version_and_content_type_rules(headers: dict[str, str], message: str) -> None:
    response = Engine().handle(post(headers=headers))
    assert response.status == 400
    assert message in error(response)["message"]


def test_header_rules_apply_only_where_the_table_says() -> None:
    request = WireRequest("GET", "/v1/models", {"x-api-key": "k"})
    assert Engine().handle(request).status == 200


def test_a_journaled_body_reads_back_as_sent_and_redacted_where_asked() -> None:
    engine = Engine()
    engine.handle(post())
    entry = engine.journal.last
    assert entry.body == BODY and entry.body is entry.body  # parsed once, when first read
    assert entry.to_json()["body"] == BODY and entry.to_json()["model"] == BODY["model"]
    redacting = Engine()
    redacting.journal.redaction = Redaction.of(paths=["messages.0.content"])
    redacting.handle(post())
    assert redacting.journal.last.body == {
        **BODY,
        "messages": [{"role": "user", "content": REDACTED}],
    }
    entry.body = {"replaced": True}  # a body set by hand is the one shown
    assert entry.body == {"replaced": True} and entry.to_json()["body"] == {"replaced": True}


def test_missing_key_is_401_before_anything_else() -> None:
    response = Engine().handle(WireRequest("POST", "/v1/messages", {}, b"{not json"))
    assert response.status == 401


def test_the_journal_records_each_request_with_its_endpoint() -> None:
    engine = Engine()
    engine.handle(post())
    engine.handle(get("/v1/models"))
    engine.handle(get("/v1/nothing"))
    first, second, third = engine.journal
    assert (first.endpoint, first.status, first.model) == ("messages", 200, "claude-haiku-4-5")
    assert first.output_tokens > 0 and first.credits > 0
    assert (second.endpoint, second.status) == ("models", 200)
    assert (third.endpoint, third.status, third.error) == (
        None,
        404,
        {"type": "not_found_error", "message": "Not Found"},
    )
    assert [e.path for e in engine.journal.messages] == ["/v1/messages"]
    assert engine.journal.filter(status=404) == [third]
