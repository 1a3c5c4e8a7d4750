"""Message Batches in the engine: lifecycle on a fake clock, limits, the Messages pipeline
for each request (rules, contract errors, journal, billing). No socket, no SDK."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockspike import MockSpike
from mockspike.model.clock import FakeClock
from mockspike.model.wire import WireRequest, WireResponse
from mockspike.state.batches import BatchSettings

HEADERS = {
    "x-api-key": "sk-batch",
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
    "host": "fake.test",
}


def params(text: str = "Classify: my order is late.", **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def call(fake: MockSpike, method: str, path: str, body: Any = None, query: str = "") -> Any:
    raw = json.dumps(body).encode() if body is not None else b""
    response = fake.engine.handle(WireRequest(method, path, dict(HEADERS), raw, query))
    return response.status, _body(response)


def _body(response: WireResponse) -> Any:
    data = b"".join(chunk for _, chunk in response.iter_chunks())
    if response.headers.get("content-type") == "application/binary":
        return [json.loads(line) for line in data.splitlines()]
    return json.loads(data)


def create(fake: MockSpike, requests: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    body = {"requests": [{"custom_id": c, "params": p} for c, p in requests]}
    status, batch = call(fake, "POST", "/v1/messages/batches", body)
    assert status == 200, batch
    return dict(batch)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> MockSpike:
    return MockSpike(profile="anthropic", clock=clock)


def test_valid_and_invalid_requests_end_with_their_counts_and_results(fake: MockSpike) -> None:
    batch = create(
        fake,
        [
            ("good-1", params()),
            ("too-long", params(max_tokens=10**6)),
            ("good-2", params("Another ticket")),
            ("no-model", {"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}),
        ],
    )
    assert batch["processing_status"] == "in_progress"
    assert batch["request_counts"]["processing"] == 4
    assert batch["results_url"] is None and batch["ended_at"] is None

    status, ended = call(fake, "GET", f"/v1/messages/batches/{batch['id']}")
    assert status == 200 and ended["processing_status"] == "ended"
    assert ended["request_counts"] == {
        "processing": 0,
        "succeeded": 2,
        "errored": 2,
        "canceled": 0,
        "expired": 0,
    }
    assert ended["results_url"] == f"http://fake.test/v1/messages/batches/{batch['id']}/results"

    status, results = call(fake, "GET", f"/v1/messages/batches/{batch['id']}/results")
    by_id = {r["custom_id"]: r["result"] for r in results}
    assert by_id["good-1"]["type"] == "succeeded"
    assert by_id["good-1"]["message"]["type"] == "message"
    # the error a single request would get, in the errored result
    single_status, single = call(fake, "POST", "/v1/messages", params(max_tokens=10**6))
    assert single_status == 400
    assert by_id["too-long"]["type"] == "errored"
    assert by_id["too-long"]["error"]["error"] == single["error"]
    assert by_id["no-model"]["error"]["error"] == {
        "type": "invalid_request_error",
        "message": "model: Field required",
    }


def test_scripted_rules_answer_items_and_the_journal_records_each(fake: MockSpike) -> None:
    fake.on(text="refund").reply("Route to billing.")
    fake.on(text="outage").fail(529)
    batch = create(fake, [("a", params("I want a refund")), ("b", params("Is there an outage?"))])
    results = fake.batches.results(batch["id"])
    by_id = {r["custom_id"]: r["result"] for r in results}
    assert by_id["a"]["message"]["content"][0]["text"] == "Route to billing."
    assert by_id["b"]["error"]["error"]["type"] == "overloaded_error"
    items = [e for e in fake.requests if e.batch_item]
    assert [e.batch_item for e in items] == [f"{batch['id']}/a", f"{batch['id']}/b"]
    assert [e.status for e in items] == [200, 529]
    assert items[0].body == params("I want a refund")


def test_items_cost_half_and_stay_out_of_the_rate_limits(clock: FakeClock) -> None:
    config = {
        "keys": {
            "sk-batch": {
                "wallet": 100.0,
                "rate_limits": {
                    "requests_per_minute": 1,
                    "input_tokens_per_minute": 100000,
                    "output_tokens_per_minute": 100000,
                },
            }
        }
    }
    fake = MockSpike(profile="anthropic", clock=clock, config=config)
    status, _ = call(fake, "POST", "/v1/messages", params())
    assert status == 200
    single = fake.requests.last.credits
    batch = create(fake, [(f"r{i}", params()) for i in range(5)])
    assert fake.batches.get(batch["id"])["request_counts"]["succeeded"] == 5
    items = [e for e in fake.requests if e.batch_item]
    assert all(e.credits == pytest.approx(single / 2) for e in items)
    assert fake.wallet("sk-batch") == pytest.approx(100.0 - single - 5 * single / 2)


def test_cancel_mid_way_keeps_answered_results_and_cancels_the_rest(
    fake: MockSpike, clock: FakeClock
) -> None:
    fake.batches.settings(processing_seconds=100, canceling_seconds=10)
    batch = create(fake, [(f"r{i}", params(f"ticket {i}")) for i in range(10)])
    clock.advance(50)
    status, canceling = call(fake, "POST", f"/v1/messages/batches/{batch['id']}/cancel")
    assert status == 200 and canceling["processing_status"] == "canceling"
    assert canceling["cancel_initiated_at"] is not None
    assert canceling["request_counts"]["processing"] == 10
    clock.advance(5)
    assert fake.batches.get(batch["id"])["processing_status"] == "canceling"
    clock.advance(5)
    ended = fake.batches.get(batch["id"])
    assert ended["processing_status"] == "ended"
    assert ended["ended_at"] > ended["cancel_initiated_at"]
    assert ended["request_counts"]["succeeded"] == 5
    assert ended["request_counts"]["canceled"] == 5
    types = [r["result"]["type"] for r in fake.batches.results(batch["id"])]
    assert types == ["succeeded"] * 5 + ["canceled"] * 5


def test_slow_batch_expires_after_a_day(fake: MockSpike, clock: FakeClock) -> None:
    fake.batches.settings(processing_seconds=48 * 3600)
    batch = create(fake, [(f"r{i}", params()) for i in range(4)])
    clock.advance(12 * 3600)
    assert fake.batches.get(batch["id"])["processing_status"] == "in_progress"
    clock.advance(13 * 3600)
    ended = fake.batches.get(batch["id"])
    assert ended["processing_status"] == "ended"
    assert ended["ended_at"] == ended["expires_at"]
    assert ended["request_counts"]["succeeded"] == 2
    assert ended["request_counts"]["expired"] == 2


def test_results_are_archived_after_29_days(fake: MockSpike, clock: FakeClock) -> None:
    batch = create(fake, [("a", params())])
    assert fake.batches.get(batch["id"])["archived_at"] is None
    clock.advance(29 * 24 * 3600)
    status, archived = call(fake, "GET", f"/v1/messages/batches/{batch['id']}")
    assert archived["archived_at"] is not None and archived["results_url"] is None
    status, _error = call(fake, "GET", f"/v1/messages/batches/{batch['id']}/results")
    assert status == 404


def test_only_ended_batches_can_be_deleted(fake: MockSpike, clock: FakeClock) -> None:
    fake.batches.settings(processing_seconds=60)
    batch = create(fake, [("a", params())])
    status, error = call(fake, "DELETE", f"/v1/messages/batches/{batch['id']}")
    assert status == 400 and "cancel it first" in error["error"]["message"]
    clock.advance(60)
    status, deleted = call(fake, "DELETE", f"/v1/messages/batches/{batch['id']}")
    assert (status, deleted) == (200, {"id": batch["id"], "type": "message_batch_deleted"})
    status, error = call(fake, "GET", f"/v1/messages/batches/{batch['id']}")
    assert status == 404 and error["error"]["type"] == "not_found_error"


def test_results_of_an_unfinished_batch_are_refused(fake: MockSpike) -> None:
    fake.batches.settings(processing_seconds=60)
    batch = create(fake, [("a", params())])
    status, error = call(fake, "GET", f"/v1/messages/batches/{batch['id']}/results")
    assert status == 400 and "not ended" in error["error"]["message"]


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        ([{"custom_id": "a", "params": {}}, {"custom_id": "a", "params": {}}], "Duplicate"),
        ([{"custom_id": "a" * 65, "params": {}}], "at most 64 characters"),
        ([{"custom_id": "no spaces", "params": {}}], "should match pattern"),
        ([{"params": {}}], "requests.0.custom_id: Field required"),
        ([{"custom_id": "a"}], "requests.0.params: Field required"),
        ([], "at least 1 item"),
    ],
)
def test_malformed_batches_are_refused_whole(
    fake: MockSpike, requests: list[Any], message: str
) -> None:
    status, error = call(fake, "POST", "/v1/messages/batches", {"requests": requests})
    assert status == 400 and message in error["error"]["message"]
    assert len(fake.batches) == 0


def test_a_batch_of_100001_requests_is_refused(fake: MockSpike) -> None:
    one = {"custom_id": "x", "params": {}}
    body = b'{"requests":[' + b",".join([json.dumps(one).encode()] * 100_001) + b"]}"
    response = fake.engine.handle(WireRequest("POST", "/v1/messages/batches", HEADERS, body))
    error = json.loads(response.body)
    assert response.status == 400
    assert "at most 100000 items" in error["error"]["message"]


def test_list_pages_newest_first(fake: MockSpike) -> None:
    ids = [create(fake, [("a", params())])["id"] for _ in range(3)]
    _, first = call(fake, "GET", "/v1/messages/batches", query="limit=2")
    assert [b["id"] for b in first["data"]] == ids[::-1][:2] and first["has_more"]
    _, rest = call(fake, "GET", "/v1/messages/batches", query=f"after_id={first['last_id']}")
    assert [b["id"] for b in rest["data"]] == [ids[0]] and not rest["has_more"]
    _, before = call(fake, "GET", "/v1/messages/batches", query=f"before_id={ids[0]}")
    assert [b["id"] for b in before["data"]] == ids[::-1][:2]


def test_results_stream_in_chunks(fake: MockSpike) -> None:
    batch = create(fake, [(f"r{i}", params(f"ticket {i}")) for i in range(300)])
    fake.batches.get(batch["id"])
    request = WireRequest("GET", f"/v1/messages/batches/{batch['id']}/results", HEADERS)
    response = fake.engine.handle(request)
    assert response.stream is not None and response.body == b""
    chunks = [chunk for _, chunk in response.stream]
    assert len(chunks) > 1
    lines = b"".join(chunks).splitlines()
    assert [json.loads(line)["custom_id"] for line in lines] == [f"r{i}" for i in range(300)]


def test_settings_refuse_unknown_names_and_negative_times(fake: MockSpike) -> None:
    with pytest.raises(ValueError, match="unknown batch setting"):
        fake.batches.settings(procesing_seconds=5)
    with pytest.raises(ValueError, match="must not be negative"):
        fake.batches.settings(processing_seconds=-1)
    assert fake.batches.settings() == BatchSettings()


def test_the_gateway_profile_serves_batches_but_not_files() -> None:
    fake = MockSpike()
    status, _ = call(
        fake, "POST", "/v1/messages/batches", {"requests": [{"custom_id": "a", "params": params()}]}
    )
    assert status == 200
    status, error = call(fake, "GET", "/v1/files")
    assert status == 404 and error["error"]["type"] == "not_found_error"


@pytest.mark.anyio
async def test_the_admin_api_inspects_scripts_and_clears_batches_and_files(fake: MockSpike) -> None:
    from tests.conftest import call_asgi

    async def admin(method: str, path: str, body: Any = None) -> Any:
        raw = json.dumps(body).encode() if body is not None else b""
        headers = {"content-type": "application/json"}
        sent = await call_asgi(fake.app, method, f"/_mockspike/{path}", body=raw, headers=headers)
        return json.loads(
            b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        )

    settings = await admin("POST", "batches/settings", {"processing_seconds": 60})
    assert settings["processing_seconds"] == 60
    assert (
        "unknown batch setting"
        in (await admin("POST", "batches/settings", {"x": 1}))["error"]["message"]
    )
    batch = create(fake, [("a", params())])
    fake.files.add(b"x", "x.txt")
    listed = await admin("GET", "batches")
    assert [b["id"] for b in listed["batches"]] == [batch["id"]]
    assert [f["filename"] for f in (await admin("GET", "files"))["files"]] == ["x.txt"]
    assert await admin("DELETE", "batches") == {"batches": []}
    assert await admin("DELETE", "files") == {"files": []}


def test_agent_mode_answers_items_as_it_answers_single_requests(clock: FakeClock) -> None:
    fake = MockSpike(profile="anthropic", clock=clock, synthetic="agent")
    tool = {"name": "lookup", "input_schema": {"type": "object", "properties": {}}}
    item = params("Where is order A-1042?", tools=[tool])
    status, single = call(fake, "POST", "/v1/messages", item)
    assert status == 200 and single["stop_reason"] == "tool_use"
    batch = create(fake, [("a", item)])
    (result,) = fake.batches.results(batch["id"])
    message = result["result"]["message"]
    assert message["stop_reason"] == "tool_use"
    assert message["content"] == single["content"]
