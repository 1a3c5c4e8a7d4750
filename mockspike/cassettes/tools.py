"""`mockspike cassette list | show | redact | check | import`."""

from __future__ import annotations

import argparse
import json
import sys
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from mockspike import _json
from mockspike.cassettes.format import Cassette, CassetteError
from mockspike.cassettes.vcr import export_vcr, import_vcr
from mockspike.contract import betas
from mockspike.contract.catalog import load_profile
from mockspike.engine.engine import Engine
from mockspike.model.wire import WireRequest


def run(args: argparse.Namespace) -> int:
    try:
        if args.tool == "import":
            return import_vcr(Path(args.source), Path(args.target))
        if args.tool == "export":
            return export_vcr(Path(args.source), Path(args.target), args.base_url)
        cassette = Cassette.load(args.path)
        if not Path(args.path).exists():
            raise CassetteError(f"{args.path}: no such cassette")
        if args.tool == "list":
            return _list(cassette)
        if args.tool == "show":
            return _show(cassette, args.number)
        if args.tool == "redact":
            return _redact(args)
        return check(cassette, args.profile)
    except BrokenPipeError:
        raise  # the reader of our output left: the command line ends quietly
    except (CassetteError, OSError) as exc:
        print(f"mockspike: {exc}", file=sys.stderr)
        return 2


def _list(cassette: Cassette) -> int:
    for number, interaction in enumerate(cassette.interactions):
        request, response = interaction["request"], interaction["response"]
        body = request.get("body") if isinstance(request.get("body"), dict) else {}
        kind = f"{len(response['events'])} events" if "events" in response else "json"
        print(
            f"{number:>4}  {request['method']} {request['path']}  {body.get('model', '-')}  "
            f"{response['status']}  {kind}"
        )
    return 0


def _show(cassette: Cassette, number: int | None) -> int:
    count = len(cassette.interactions)
    if number is not None and not 0 <= number < count:
        held = f"0 to {count - 1}" if count else "none"
        raise CassetteError(f"{cassette.path} has {count} interaction(s) ({held}), not {number}")
    chosen = cassette.interactions if number is None else [cassette.interactions[number]]
    print(json.dumps(chosen if number is None else chosen[0], indent=2, ensure_ascii=False))
    return 0


def _redact(args: argparse.Namespace) -> int:
    cassette = Cassette.load(
        args.path, redact_headers=frozenset(args.header), redact_paths=tuple(args.body_path)
    )
    cassette.redact_all()
    missed = [p for p in args.body_path if not cassette.redacted[p][0]]
    if missed:
        raise CassetteError(
            f"no request body in {args.path} has {', '.join(missed)} (nothing written); paths "
            "are dotted, with list indices, as `cassette show` and the miss diff print them: "
            "messages.0.content"
        )
    cassette.save()
    changed = sum(cassette.redacted[p][1] for p in args.body_path)
    print(
        f"redacted {changed} body value(s) in {len(cassette.interactions)} interactions "
        f"of {args.path}"
    )
    return 0


CHECKED_PATHS = ("/v1/messages", "/v1/messages/count_tokens")
"""Requests whose recorded answer the contract can judge (both name a model)."""


def _restore_upload(engine: Engine, response: Any) -> None:
    """Keep a file a recorded upload created, under its recorded id, so the requests after
    it that name the id are judged as the API judged them (the file's bytes are not in the
    cassette: the check needs only its type)."""
    meta = response.get("body") if isinstance(response, dict) else None
    if response.get("status") != 200 or not isinstance(meta, dict) or "id" not in meta:
        return
    engine.files.restore(
        str(meta["id"]),
        str(meta.get("filename", "upload")),
        str(meta.get("mime_type", "application/octet-stream")),
        now=engine.clock.now(),
    )


def check(cassette: Cassette, profile: str) -> int:
    """Every recorded answer should be what the contract says: a recorded success must be a
    request the fake accepts, a recorded error the same status, type and message."""
    engine = Engine(load_profile(profile).with_retired_served())
    problems = 0
    for number, interaction in enumerate(cassette.interactions):
        request, response = interaction["request"], interaction["response"]
        shape = response_problem(response)
        if shape is not None:
            problems += 1
            print(f"interaction {number}: {shape}")
            continue
        path = request["path"].split("?")[0]
        if path == "/v1/files" and request["method"] == "POST":
            _restore_upload(engine, response)
            continue
        if path not in CHECKED_PATHS or not isinstance(request.get("body"), dict):
            continue
        body = {k: v for k, v in request["body"].items() if k != "stream"}
        headers = {"x-api-key": "check", "anthropic-version": "2023-06-01"}
        beta = (request.get("headers") or {}).get("anthropic-beta")
        if not beta:  # many recorders drop the header: assume the betas the body's fields need
            beta = ",".join(v[0] for k, v in betas.gated_fields().items() if k in body)
        if beta:
            headers["anthropic-beta"] = beta
        wire = WireRequest("POST", path, headers, _json.dumps(body))
        ours = engine.handle(wire)
        recorded = response["status"]
        if recorded == 200 and ours.status != 200:
            problems += 1
            error = _json.loads(ours.body)["error"]
            print(
                f"interaction {number}: recorded 200, but the contract answers {ours.status} "
                f"{error['type']}: {error['message']}"
            )
        elif recorded != 200 and isinstance(response.get("body"), dict):
            theirs = response["body"].get("error", {})
            mine = _json.loads(ours.body).get("error", {}) if ours.status != 200 else {}
            if (
                (ours.status, mine.get("type"), mine.get("message"))
                != (recorded, theirs.get("type"), theirs.get("message"))
                and recorded < 500
                and recorded != 429
            ):
                problems += 1
                print(
                    f"interaction {number}: recorded {recorded} {theirs.get('type')}: "
                    f"{theirs.get('message')!r}, the contract answers {ours.status} "
                    f"{mine.get('type')}: {mine.get('message')!r}"
                )
    print(f"{len(cassette.interactions)} interactions, {problems} inconsistent with the contract")
    return 1 if problems else 0


def response_problem(response: Any) -> str | None:
    """Why a recorded response could not be what the API sent (None: it could): a status
    that is not a number, a message body that breaks the response schema."""
    if not isinstance(response, dict):
        return "the response is not an object"
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool):
        return f"status {status!r} is not a number (edited by hand?)"
    body = response.get("body")
    if status == 200 and isinstance(body, dict) and body.get("type") == "message":
        error = best_match(_message_schema().iter_errors(body))
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path) or "body"
            return f"the recorded message breaks the response contract at {where}: {error.message}"
    return None


@cache
def _message_schema() -> Draft202012Validator:
    text = files("mockspike.contract").joinpath("schemas/responses.json").read_text("utf-8")
    schemas = json.loads(text)
    return Draft202012Validator(
        {"$ref": "#/components/schemas/Message", "components": {"schemas": schemas}}
    )
