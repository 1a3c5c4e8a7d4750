"""Server-held message threads in the engine (no socket, no SDK): a continuation is answered
as the whole conversation it stands for, each reply is continued once, and each refusal
carries its `error.details.error_code`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockspike import Engine
from mockspike.engine.threads import THREAD_TTL
from mockspike.model.clock import FakeClock
from mockspike.state.threads import MemoryThreads, Record

from .conftest import BODY, body, post

BETA = {"anthropic-beta": "message-threads-2026-08-12"}
TOOL = {
    "name": "get_weather",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def send(engine: Engine, **fields: Any) -> tuple[int, dict[str, Any]]:
    response = engine.handle(post(body={**BODY, **fields}, headers=BETA))
    return response.status, json.loads(body(response))


def create(engine: Engine, **fields: Any) -> dict[str, Any]:
    status, message = send(engine, thread={"type": "create"}, **fields)
    assert status == 200, message
    return message


def cont(previous: str) -> dict[str, str]:
    return {"type": "continue", "previous_message_id": previous}


def test_a_continuation_carrying_only_the_tool_result_takes_tools_and_system_from_the_thread() -> (
    None
):
    engine = Engine(synthetic="agent")
    first = create(engine, tools=[TOOL], system="Answer briefly.")
    call = first["content"][-1]
    assert call["type"] == "tool_use"
    result = {"type": "tool_result", "tool_use_id": call["id"], "content": "Sunny"}
    status, second = send(
        engine,
        messages=[{"role": "user", "content": [result]}],
        thread=cont(first["id"]),
    )
    assert status == 200, second
    # answered as the whole conversation: the agent mode saw the tool result and wrote text
    assert second["stop_reason"] == "end_turn" and second["content"][0]["type"] == "text"
    # the journal keeps what was sent: the new turn only
    sent = engine.journal[-1].body
    assert "tools" not in sent and len(sent["messages"]) == 1


def test_an_unanswered_tool_use_is_checked_across_the_thread() -> None:
    engine = Engine(synthetic="agent")
    first = create(engine, tools=[TOOL])
    status, answer = send(
        engine,
        messages=[{"role": "user", "content": "Never mind."}],
        thread=cont(first["id"]),
    )
    assert status == 400
    assert "`tool_use` ids were found without `tool_result` blocks" in answer["error"]["message"]
    # a refused continuation gives its claim back: the reply can still be continued
    call = first["content"][-1]
    result = {"type": "tool_result", "tool_use_id": call["id"], "content": "Sunny"}
    status, _ = send(
        engine, messages=[{"role": "user", "content": [result]}], thread=cont(first["id"])
    )
    assert status == 200


@pytest.mark.parametrize("field", ["tools", "system"])
def test_a_continuation_that_repeats_tools_or_system_is_refused(field: str) -> None:
    engine = Engine()
    first = create(engine, tools=[TOOL], system="Be brief.")
    value = [TOOL] if field == "tools" else "Be brief."
    status, answer = send(engine, thread=cont(first["id"]), **{field: value})
    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error"
    assert answer["error"]["message"].startswith(
        f"{field}: a request that continues a thread cannot set `{field}`"
    )
    assert "details" not in answer["error"]


def test_each_reply_is_continued_once() -> None:
    engine = Engine()
    first = create(engine)
    status, second = send(engine, thread=cont(first["id"]))
    assert status == 200
    status, again = send(engine, thread=cont(first["id"]))
    assert (status, again["error"]["details"]) == (400, {"error_code": "thread_already_continued"})
    assert first["id"] in again["error"]["message"]
    status, _third = send(engine, thread=cont(second["id"]))
    assert status == 200


def test_an_unknown_or_expired_thread_is_a_404_with_its_code() -> None:
    clock = FakeClock()
    engine = Engine(clock=clock)
    status, answer = send(engine, thread=cont("msg_01Nowhere"))
    assert status == 404
    assert answer["error"]["type"] == "not_found_error"
    assert answer["error"]["details"] == {"error_code": "thread_not_found"}
    first = create(engine)
    clock.advance(THREAD_TTL)
    status, answer = send(engine, thread=cont(first["id"]))
    assert (status, answer["error"]["details"]["error_code"]) == (404, "thread_not_found")


def test_a_stream_holds_the_reply_it_continues_until_it_ends() -> None:
    engine = Engine()
    first = create(engine)
    request = post(body={**BODY, "stream": True, "thread": cont(first["id"])}, headers=BETA)
    streaming = engine.handle(request)
    chunks = streaming.iter_chunks()
    next(chunks)  # message_start: the continuation is in flight
    status, answer = send(engine, thread=cont(first["id"]))
    assert (status, answer["error"]["details"]) == (
        400,
        {"error_code": "thread_continue_in_flight"},
    )
    rest = b"".join(chunk for _, chunk in chunks)
    assert b"event: message_stop" in rest
    status, answer = send(engine, thread=cont(first["id"]))
    assert answer["error"]["details"] == {"error_code": "thread_already_continued"}


def test_a_stream_left_before_its_end_keeps_nothing() -> None:
    engine = Engine()
    first = create(engine)
    request = post(body={**BODY, "stream": True, "thread": cont(first["id"])}, headers=BETA)
    chunks = engine.handle(request).iter_chunks()
    next(chunks)
    chunks.close()  # the client hung up: the reply it continued may be continued again
    status, _ = send(engine, thread=cont(first["id"]))
    assert status == 200


def test_another_model_on_a_continuation_is_a_fingerprint_mismatch() -> None:
    engine = Engine("anthropic")
    first = create(engine)
    status, answer = send(engine, model="claude-sonnet-4-6", thread=cont(first["id"]))
    assert status == 400
    assert answer["error"]["details"] == {"error_code": "thread_fingerprint_mismatch"}
    assert "`model`" in answer["error"]["message"]
    # the model's alias is the same model
    status, _ = send(engine, model="claude-haiku-4-5-20251001", thread=cont(first["id"]))
    assert status == 200


def test_a_field_threads_do_not_support_is_named() -> None:
    engine = Engine("anthropic")
    status, answer = send(engine, thread={"type": "create"}, fallbacks="default")
    assert status == 400
    assert answer["error"]["details"] == {
        "error_code": "thread_unsupported_request",
        "unsupported": ["fallbacks"],
    }


def test_a_continuation_after_pause_turn_may_send_no_messages() -> None:
    engine = Engine()
    engine.new_rule().reply(
        content=[{"type": "text", "text": "Working on it"}], stop_reason="pause_turn"
    )
    first = create(engine)
    assert first["stop_reason"] == "pause_turn"
    status, answer = send(engine, messages=[], thread=cont(first["id"]))
    assert status == 200, answer


def test_the_memory_store_keeps_plain_data() -> None:
    store = MemoryThreads()
    record = Record("claude-haiku-4-5-20251001", [{"role": "user", "content": "Hi"}], expires=10.0)
    store.keep("msg_1", record, None)
    assert Record.from_state(json.loads(json.dumps(store.claim("msg_1", 0.0).to_state()))) == record
    store.release("msg_1")
    store.keep("msg_2", record, "msg_1")
    assert len(store) == 2
    store.clear()
    assert len(store) == 0
