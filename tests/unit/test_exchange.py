"""The exchange every adapter shares: routed once when opened (its body limit from the
route), fed its body within that limit, answered by the engine."""

from __future__ import annotations

import json

import anyio

from mockspike import Engine, WireRequest
from mockspike.engine.exchange import Body, decode_headers
from tests.conftest import HEADERS, SEED_BODY


def test_an_exchange_knows_its_route_and_its_body_limit() -> None:
    engine = Engine(profile="anthropic")
    messages, upload = engine.open("POST", "/v1/messages"), engine.open("POST", "/v1/files")
    assert messages.endpoint is not None and messages.endpoint.name == "messages"
    assert messages.limit == engine.profile.max_body_bytes
    assert upload.limit > messages.limit  # an upload's own limit
    assert engine.open("GET", "/v1/files/file_1").params == {"file_id": "file_1"}
    nowhere = engine.open("GET", "/v1/nowhere")
    assert nowhere.endpoint is None and nowhere.refused is not None


def test_a_body_is_read_up_to_its_limit_and_no_further() -> None:
    body = Body(limit=5)
    assert not body.declared_over(b"5") and body.declared_over("6")
    assert body.feed(b"ab") and body.feed(b"") and body.feed(b"cde")
    assert not body.feed(b"f")  # past the limit: stop reading
    assert body.done() == b"abcde" and body.size == 5


def test_headers_off_the_wire_are_lower_cased() -> None:
    assert decode_headers([(b"X-Api-Key", b"k"), (b"Host", b"h")]) == {
        "x-api-key": "k",
        "host": "h",
    }


def test_an_exchange_answered_is_journaled_with_one_request_id() -> None:
    engine = Engine()
    exchange = engine.open("POST", "/v1/messages")
    exchange.headers = {**HEADERS, "content-type": "application/json"}
    assert exchange.feed(json.dumps(SEED_BODY).encode())
    response = engine.answer(exchange)
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["request-id"].startswith("req_")
    assert engine.journal.last.status == 200


def test_a_refused_route_is_answered_and_journaled() -> None:
    engine = Engine()
    response = engine.answer(engine.open("DELETE", "/v1/messages"))
    assert response.status == 405
    assert json.loads(response.body)["request_id"] == response.headers["request-id"]
    assert engine.journal.last.status == 405


def test_handlers_answers_get_the_request_id_and_content_type_from_the_engine() -> None:
    response = Engine().handle(WireRequest("GET", "/v1/models", dict(HEADERS)))
    assert response.headers["content-type"] == "application/json"
    assert response.headers["request-id"].startswith("req_")


def test_handle_async_answers_as_handle_does() -> None:
    raw = json.dumps(SEED_BODY).encode()
    headers = {**HEADERS, "content-type": "application/json"}

    async def ask() -> int:
        response = await Engine().handle_async(WireRequest("POST", "/v1/messages", headers, raw))
        return response.status

    assert anyio.run(ask) == 200
