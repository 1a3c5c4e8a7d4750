"""`POST /v1/chat/completions`: Claude through the OpenAI SDK, answered by the Messages
pipeline. translate -> check -> admit -> decide -> bill -> deliver (in the OpenAI shape)
-> apply the fault.

Only the edges are this dialect's (`openai_chat.py`): the request is translated into a
Messages request, and the rendered message goes back as a `chat.completion` or its chunks.
Every step between is `messages.py`'s own, so scripted rules, faults, pacing, keys, limits,
wallets, credits and the journal behave as they do for a Messages client."""

from __future__ import annotations

from collections.abc import Iterator

from mockspike import _json
from mockspike.contract.validate import parse_body
from mockspike.engine import messages
from mockspike.engine.context import Context
from mockspike.gateway import accounting
from mockspike.model.errors import ApiError
from mockspike.model.outcomes import Failure
from mockspike.model.pacing import Pacer
from mockspike.model.wire import Chunk, WireResponse
from mockspike.render import openai_chat, sse
from mockspike.render.message import Rendered
from mockspike.script import checks

JSON = "application/json"


def handle(call: Context) -> WireResponse:
    """Translate, then answer as `messages.handle` does; a refused answer is not billed.
    The journal keeps the request as sent, the fields ignored and the Messages request."""
    sent = parse_body(call.request.body)
    entry, services = call.entry, call.services
    entry.parsed_from_request(sent)
    translation = openai_chat.translate(sent, services.profile)
    entry.ignored = translation.ignored
    entry.translated = body = translation.body
    with accounting.one_walk(body):
        order = messages.admit(services, call.key, body)
        try:
            return answer(call, order, translation.include_usage)
        except (ApiError, checks.AnswerError):
            services.gateway.settle(order.admission, 0, 0.0)
            raise


def answer(call: Context, order: messages.Order, include_usage: bool) -> WireResponse:
    """`messages.answer`, delivered in this dialect: a `chat.completion`, or its chunks."""
    services = call.services

    def delivery(
        rendered: Rendered, headers: dict[str, str], pacer: Pacer, stream: bool
    ) -> WireResponse:
        headers.update(openai_chat.headers(headers))
        created = int(services.clock.now())
        if stream:
            return _stream(rendered, headers, pacer, created, include_usage)
        headers["content-type"] = JSON
        payload = _json.dumps(openai_chat.completion(rendered, created))
        return WireResponse(200, headers, payload, delay=pacer.total(rendered.reply.output_tokens))

    def failure_frame(failure: Failure, request_id: str) -> bytes:
        return openai_chat.error_frame(messages.scripted_error(services.profile, failure))

    return messages.answer(call, order, delivery=delivery, failure_frame=failure_frame)


def _stream(
    rendered: Rendered, headers: dict[str, str], pacer: Pacer, created: int, include_usage: bool
) -> WireResponse:
    headers["content-type"] = sse.CONTENT_TYPE
    headers["cache-control"] = "no-cache"
    return WireResponse(200, headers, stream=_paced(rendered, pacer, created, include_usage))


def _paced(rendered: Rendered, pacer: Pacer, created: int, include_usage: bool) -> Iterator[Chunk]:
    frames = openai_chat.chunks(rendered, created, include_usage)
    if pacer.instant:
        for _, frame in frames:
            yield 0.0, frame
        return
    for tokens, frame in frames:
        yield pacer.next(tokens), frame
