"""`POST /v1/messages`: check -> admit -> decide -> bill -> deliver -> apply the fault.

Each step is a function of plain values, so it can be read and tested alone."""

from __future__ import annotations

import dataclasses
import datetime
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mockspike import _json
from mockspike.contract.catalog import Model, Profile
from mockspike.contract.validate import check_message_request, parse_body
from mockspike.engine import threads
from mockspike.engine.context import Context, Services
from mockspike.engine.files import resolve_files
from mockspike.gateway import accounting
from mockspike.gateway.limits import Admission
from mockspike.model.errors import DEFAULT_MESSAGES, ERROR_TYPES, ApiError, error_body
from mockspike.model.faults import Fault
from mockspike.model.outcomes import Failure, Reply
from mockspike.model.pacing import Pacer
from mockspike.model.wire import Chunk, WireResponse
from mockspike.render import sse
from mockspike.render.message import Rendered
from mockspike.script import checks
from mockspike.state.journal import Entry
from mockspike.synthetic import thinking
from mockspike.synthetic.default import request_seed

JSON = "application/json"
UNMATCHED_HEADER = "x-mockspike-unmatched"


def handle(call: Context) -> WireResponse:
    """Check the body, admit the caller, then answer; a refused answer is not billed. The
    prompt is walked once for the rules, the bill and the cache (`accounting.one_walk`;
    a body whose file sources are resolved is a new body, walked on its own)."""
    betas = call.request.header("anthropic-beta")
    body = parse_body(call.request.body)
    call.entry.parsed_from_request(body)
    services = call.services
    turn = threads.begin(services.threads, services.profile, services.clock, body, betas)
    if turn is None:
        with accounting.one_walk(body, call.request.body):
            return _admit_and_answer(call, body, betas, None)
    try:
        # a continuation is the whole conversation: a new body, walked on its own
        with accounting.one_walk(turn.body, None if turn.continues else call.request.body):
            return _admit_and_answer(call, turn.body, betas, turn)
    except BaseException:
        turn.abandon()
        raise


def _admit_and_answer(
    call: Context, body: dict[str, Any], betas: str | None, turn: threads.Turn | None
) -> WireResponse:
    order = admit(call.services, call.key, body, betas=betas)
    try:
        return answer(call, order, turn)
    except (ApiError, checks.AnswerError):
        call.services.gateway.settle(order.admission, 0, 0.0)
        raise


def admit(
    services: Services,
    key: str,
    body: dict[str, Any],
    *,
    price: float = 1.0,
    limited: bool = True,
    betas: str | None = None,
) -> Order:
    """Resolve file sources, check the body, check the key may use the model, then admit
    the caller (wallet, and rate limits when `limited`); `betas` is the `anthropic-beta`
    header the request came with. A Message Batch's requests come
    here too, at their `price` (a share of list price) and outside the rate limits."""
    body = resolve_files(services.files, body, services.clock.now())
    model = check_message_request(body, services.profile, betas)
    services.gateway.check_model(key, body["model"], model)
    prompt_tokens = accounting.input_tokens(body)
    estimate = accounting.credits(model, prompt_tokens, body["max_tokens"]) * price
    admission = services.gateway.admit(
        key, estimate, prompt_tokens, body["max_tokens"], limited=limited
    )
    return Order(body, model, prompt_tokens, estimate, admission, price)


@dataclass(frozen=True)
class Order:
    """An admitted request: its body, model, prompt size, estimated cost and reservation."""

    body: dict[str, Any]
    model: Model
    prompt_tokens: int
    estimate: float
    admission: Admission
    price: float = 1.0
    """The share of list price billed: 1, or the Message Batches discount."""


Delivery = Callable[[Rendered, dict[str, str], Pacer, bool], WireResponse]
"""How a rendered reply goes out (rendered, headers, pacer, stream?): `deliver` for the
Messages API; another dialect brings its own (`chat_completions.py`)."""
FailureFrame = Callable[[Failure, str], bytes]
"""A failure as the event that ends a stream in this dialect (failure, request id)."""


def answer(
    call: Context,
    order: Order,
    turn: threads.Turn | None = None,
    *,
    delivery: Delivery | None = None,
    failure_frame: FailureFrame | None = None,
) -> WireResponse:
    """Decide, bill and deliver (as the Messages API, unless `delivery` / `failure_frame`
    say otherwise); a threaded turn is kept with its reply once delivered (a stream: once
    its last frame is sent)."""
    services = call.services
    reply, fault = decide(services, order.body, call.entry)
    if fault is not None and not fault.renders:
        services.gateway.settle(order.admission, 0, 0.0)
        if turn is not None:
            turn.abandon()
        return fault.apply(WireResponse(0, {}), _no_error_frame)
    reply = reply or services.synthetic(order.body, None)
    rendered, headers = bill(call, order, reply, shared_ids=turn is not None)
    stream = bool(order.body.get("stream"))
    paced = pacer(services, reply, order.body)
    if delivery is None:
        response = deliver(rendered, headers, paced, stream=stream)
    else:
        response = delivery(rendered, headers, paced, stream)
    if turn is not None:
        now = services.clock.now()
        if response.stream is not None:
            response.stream = turn.frames(response.stream, rendered, order.model.id, now)
        else:
            turn.keep(rendered, order.model.id, now)
    if fault is None:
        return response
    request_id = call.request_id
    if failure_frame is None:
        return fault.apply(response, lambda f: error_frame(services.profile, f, request_id))
    return fault.apply(response, lambda f: failure_frame(f, request_id))


def decide(
    services: Services, body: dict[str, Any], entry: Entry
) -> tuple[Reply | None, Fault | None]:
    """What the script says: a reply, a fault, or nothing (the synthetic default answers);
    a scripted failure, or a miss under strict mode, is raised as the error it answers."""
    services.rules.sync(services.script)
    rule, response, entry.scenario = services.script.decide(body, entry.headers)
    described = entry.rule = rule.describe() if rule else None
    if rule is not None:
        rule.answered(entry)
    entry.response = response
    if response is None and services.strict:
        entry.unmatched = True
        raise ApiError(
            400,
            "mockspike strict mode: no rule matched this request; "
            + services.script.explain_miss(body),
            headers={UNMATCHED_HEADER: "true"},
        )
    if isinstance(response, Failure):
        raise scripted_error(services.profile, response)
    if isinstance(response, Fault):
        if not response.renders or rule is None:
            return None, response
        # a stall or a cut wraps the answer the rest of the script gives (the synthetic
        # default when none does), and the journal credits both rules
        behind, answer, _ = services.script.decide(body, entry.headers, behind=rule)
        if isinstance(answer, Failure):
            raise scripted_error(services.profile, answer)
        if not isinstance(answer, Reply) or behind is None:
            return None, response
        entry.rule = f"{behind.describe()}, through {described}"
        behind.answered(entry)
        checks.check_answer(behind.describe(), answer.content, body)
        return answer, response
    if response is not None and described is not None:
        checks.check_answer(described, response.content, body)
    return response, None


def pacer(services: Services, reply: Reply, body: dict[str, Any]) -> Pacer:
    """The reply's own timing, else the engine's pacing. Its jitter is drawn from the
    request's seed, made only when there are delays to draw (most replies have none)."""
    pacing = reply.timing or services.pacing
    return pacing.pacer(b"" if pacing.is_instant else request_seed(body), services.time_scale)


def bill(
    call: Context, order: Order, reply: Reply, *, shared_ids: bool = False
) -> tuple[Rendered, dict[str, str]]:
    """Use the prompt cache, price the answer, settle the admission: the rendered message
    and the headers (rate limits, credits; the engine adds the request id). `shared_ids`:
    the message id names stored state (a thread), so under a shared state it is drawn at
    random, not derived from the request and this process's call count (two processes
    would repeat it)."""
    services = call.services
    model, body = order.model, order.body
    reply = completed(reply, body)
    cache = services.cache.use(call.key, model, body)
    uncached = order.prompt_tokens - cache.read - cache.written
    if reply.container is not None and "expires_at" not in reply.container:
        expires_at = container_expiry(services.clock.now())
        reply = dataclasses.replace(reply, container={**reply.container, "expires_at": expires_at})
    geo = body.get("inference_geo")
    rendered = Rendered(
        id=services.message_id(
            call.request.body + (os.urandom(16) if shared_ids and services.stores.shared else b""),
            services.profile.message_id_stem(model),
        ),
        model=reply.model or services.profile.response_model(body["model"], model),
        reply=reply,
        input_tokens=uncached,
        full_usage=services.profile.full_usage,
        cache=cache,
        inference_geo=geo if isinstance(geo, str) else "global",
        iterations=reports_iterations(body),
    )
    cost = order.price * accounting.credits(
        model, uncached, reply.output_tokens, cache.read, cache.write_5m, cache.write_1h
    )
    entry = call.entry
    entry.input_tokens, entry.output_tokens, entry.credits = uncached, reply.output_tokens, cost
    headers = services.gateway.settle(order.admission, reply.output_tokens, cost)
    if services.profile.credits_header:
        headers[services.profile.credits_header] = accounting.format_credits(order.estimate)
    return rendered, headers


def completed(reply: Reply, body: dict[str, Any]) -> Reply:
    """The reply with what the API adds to any reply, scripted or not, for this request:
    thinking before a tool call (and omitted thinking), and the `context_management` a
    request that asked for it is told (nothing applied, here)."""
    reply = thinking.before_tools(reply, body)
    if body.get("context_management") is not None and reply.context_management is None:
        reply = dataclasses.replace(reply, context_management={"applied_edits": []})
    return reply


def reports_iterations(body: dict[str, Any]) -> bool:
    """Whether the reply's usage lists its sampling iterations (`usage.iterations`): with
    compaction (a `compact_20260112` edit) or a task budget (`output_config.task_budget`)
    (a choice where the sources are silent on other requests; docs/contract.md)."""
    edits = (body.get("context_management") or {}).get("edits") or []
    compacts = any(edit.get("type") == "compact_20260112" for edit in edits)
    return compacts or (body.get("output_config") or {}).get("task_budget") is not None


#: How long a code-execution container lives after its last use (an assumption; see
#: docs/contract.md).
CONTAINER_LIFETIME = 30 * 24 * 3600.0


def container_expiry(now: float) -> str:
    """`container.expires_at` as the API writes it: RFC 3339 with microseconds and `Z`."""
    moment = datetime.datetime.fromtimestamp(now + CONTAINER_LIFETIME, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def deliver(
    rendered: Rendered, headers: dict[str, str], pacer: Pacer, *, stream: bool
) -> WireResponse:
    """The message as JSON (waiting its whole pacing first) or as paced SSE frames."""
    if stream:
        headers["content-type"] = sse.CONTENT_TYPE
        headers["cache-control"] = "no-cache"
        return WireResponse(200, headers, stream=_frames(rendered, pacer))
    headers["content-type"] = JSON
    payload = _json.dumps(rendered.message())
    return WireResponse(200, headers, payload, delay=pacer.total(rendered.reply.output_tokens))


def _frames(rendered: Rendered, pacer: Pacer) -> Iterator[Chunk]:
    if pacer.instant:
        for _, frame in sse.frames(rendered):
            yield 0.0, frame
        return
    for tokens, frame in sse.frames(rendered):
        yield pacer.next(tokens), frame


def scripted_error(profile: Profile, failure: Failure) -> ApiError:
    """A scripted failure as the profile sends it: default type and message from the
    status, `retry-after` on 429, and the gateway's auto-retry envelope on 5xx."""
    status = failure.status
    message = failure.message or DEFAULT_MESSAGES.get(status, "Error")
    headers: dict[str, str] = {}
    retry_after = failure.retry_after
    if retry_after is None and status == 429:
        retry_after = 1.0
    if retry_after is not None:
        headers["retry-after"] = str(max(math.ceil(retry_after), 0))
        headers["retry-after-ms"] = str(round(retry_after * 1000))
    wrap = profile.upstream_errors
    if status >= 500 and wrap:
        message = wrap["message_prefix"] + message
        headers.update(wrap["headers"])
    headers.update(failure.headers or {})
    return ApiError(status, message, failure.type or ERROR_TYPES.get(status), headers)


def error_frame(profile: Profile, failure: Failure, request_id: str) -> bytes:
    """The mid-stream `event: error` for a failure."""
    error = scripted_error(profile, failure)
    return sse.frame("error", error_body(error.type, error.message, request_id))


def _no_error_frame(failure: Failure) -> bytes:
    raise AssertionError("a fault that answers before rendering sends no frames")
