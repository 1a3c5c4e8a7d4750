"""The `/v1/messages/batches` endpoints: create, list, retrieve, cancel, delete, results.

Each request of a batch is answered by the same pipeline as `POST /v1/messages`
(`messages.admit` -> `decide` -> `bill`): the contract, the key's models and wallet, the
scripted rules (or the cassette), the synthetic default, the prompt cache. It is billed at
the batch price and kept out of the Messages rate limits, and the journal records it as a
Messages call with `batch_item` set. A request the single endpoint would refuse becomes an
`errored` result carrying that same error.
"""

from __future__ import annotations

import time
from typing import Any

from mockspike import _json
from mockspike._ids import request_id
from mockspike.contract.validate import parse_body
from mockspike.engine import batches, messages
from mockspike.engine.batches import check_requests
from mockspike.engine.context import EMPTY, Context, Services
from mockspike.model import paging
from mockspike.model.errors import ApiError, error_body
from mockspike.model.wire import WireRequest, WireResponse, json_answer
from mockspike.state.batches import Batch
from mockspike.state.journal import Entry

BATCH_PRICE = 0.5
"""Message Batches cost half the list price (input and output alike)."""
JSONL = "application/binary"
JSON = "application/json"


def create(call: Context) -> WireResponse:
    services = call.services
    requests = check_requests(parse_body(call.request.body))
    call.entry.body = {"requests": len(requests)}
    batch = services.batches.create(
        requests, key=call.key, now=services.clock.now(), base=_base_url(services, call.request)
    )
    return json_answer(batch.to_json())


def retrieve(call: Context) -> WireResponse:
    return json_answer(_looked_at(call).to_json())


def list_batches(call: Context) -> WireResponse:
    services = call.services
    ids = services.batches.ids()
    query = paging.query_of(call.request.query)
    chosen, has_more = paging.page(ids, ids, query)
    shown = [looked_at(services, batch_id).to_json() for batch_id in chosen]
    return json_answer(paging.listing(shown, has_more))


def cancel(call: Context) -> WireResponse:
    services = call.services
    with services.batches.changing(call.params["message_batch_id"]) as batch:
        advance(services, batch)
        batch.cancel(services.clock.now())
    return json_answer(batch.to_json())


def delete(call: Context) -> WireResponse:
    batch = _looked_at(call)
    if batch.ended_at is None:
        raise ApiError(
            400,
            f"Message Batch {batch.id} is still {batch.status}: it can only be deleted once "
            "it has finished processing; cancel it first.",
        )
    call.services.batches.delete(batch.id)
    return json_answer({"id": batch.id, "type": "message_batch_deleted"})


def results(call: Context) -> WireResponse:
    batch = _looked_at(call)
    if batch.archived:
        raise ApiError(404, f"The results of Message Batch {batch.id} are no longer available.")
    if batch.ended_at is None:
        raise ApiError(
            400, f"Message Batch {batch.id} has not ended yet: its results are not ready."
        )
    return WireResponse(
        200, {"content-type": JSONL}, stream=((0.0, chunk) for chunk in batch.results())
    )


# -- processing ------------------------------------------------------------------------


def advance(services: Services, batch: Batch) -> None:
    """Answer the requests of `batch` that are due by now (see `engine/batches.py`); call it
    inside `services.batches.changing`."""
    batches.advance(
        batch, services.clock.now(), lambda cid, params: run(services, batch, cid, params)
    )


def looked_at(services: Services, batch_id: str) -> Batch:
    """The batch, brought up to date with the clock (the API's 404 when there is none)."""
    with services.batches.looking(batch_id) as batch:
        advance(services, batch)
    return batch


def run(services: Services, batch: Batch, custom_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """One request of a batch through the Messages pipeline: its `result` object."""
    wire = WireRequest("POST", "/v1/messages/batches", {}, b"")
    entry = Entry("POST", wire.path, {}, params, endpoint="messages")
    entry.batch_item = f"{batch.id}/{custom_id}"
    entry.started_at = time.time()
    call = Context(wire, entry, batch.key, services, request_id(), EMPTY)
    try:
        result = _answer(services, call, params)
        entry.status = 200
    except ApiError as error:
        entry.status = error.status
        entry.error = {"type": error.type, "message": error.message}
        body = error_body(error.type, error.message, call.request_id)
        result = {"type": "errored", "error": body}
    services.journal.append(entry)
    return result


def _answer(services: Services, call: Context, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("stream"):
        raise ApiError(400, "stream: Streaming is not supported for requests in a Message Batch")
    if services.front is not None:
        return _from_front(services, call.key, params)
    betas = call.request.header("anthropic-beta")  # the batch's header applies to its items
    order = messages.admit(
        services, call.key, params, price=BATCH_PRICE, limited=False, betas=betas
    )
    try:
        reply, fault = messages.decide(services, order.body, call.entry)
        if fault is not None and not fault.renders:
            raise ApiError(500, "Internal server error")  # a dropped connection, in a batch
        rendered, _ = messages.bill(call, order, reply or services.synthetic(order.body, None))
    except ApiError:
        services.gateway.settle(order.admission, 0, 0.0)
        raise
    return {"type": "succeeded", "message": rendered.message()}


def _from_front(services: Services, key: str, params: dict[str, Any]) -> dict[str, Any]:
    """With a cassette, a batch request is replayed (or recorded) as the `POST /v1/messages`
    it stands for."""
    assert services.front is not None
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01", "content-type": JSON}
    answer = services.front.handle(
        WireRequest("POST", "/v1/messages", headers, _json.dumps(params))
    )
    body = _json.loads(b"".join(chunk for _, chunk in answer.iter_chunks()))
    if answer.status == 200:
        return {"type": "succeeded", "message": body}
    error = body.get("error", {}) if isinstance(body, dict) else {}
    raise ApiError(answer.status, str(error.get("message", "")), error.get("type"))


# -- helpers ---------------------------------------------------------------------------


def _looked_at(call: Context) -> Batch:
    """The batch of the path, brought up to date with the clock."""
    return looked_at(call.services, call.params["message_batch_id"])


def _base_url(services: Services, request: WireRequest) -> str:
    """Where the client reached us, so `results_url` leads back here (the SDK follows it)."""
    host = request.header("host")
    if not host:
        return services.profile.base_url
    scheme = request.header("x-forwarded-proto") or "http"
    return f"{scheme}://{host}"
