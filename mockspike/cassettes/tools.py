"""`mockspike cassette list | show | redact | check | import`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import _json
from ..contract import betas
from ..core.engine import Engine
from ..core.wire import WireRequest
from .format import Cassette, CassetteError
from .vcr import import_vcr


def run(args: argparse.Namespace) -> int:
    try:
        if args.tool == "import":
            return import_vcr(Path(args.source), Path(args.target))
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
    chosen = cassette.interactions if number is None else [cassette.interactions[number]]
    print(json.dumps(chosen if number is None else chosen[0], indent=2, ensure_ascii=False))
    return 0


def _redact(args: argparse.Namespace) -> int:
    cassette = Cassette.load(
        args.path, redact_headers=frozenset(args.header), redact_paths=tuple(args.body_path)
    )
    cassette.redact_all()
    cassette.save()
    print(f"redacted {len(cassette.interactions)} interactions in {args.path}")
    return 0


def check(cassette: Cassette, profile: str) -> int:
    """Every recorded answer should be what the contract says: a recorded success must be a
    request the fake accepts, a recorded error the same status, type and message."""
    engine = Engine(profile)
    problems = 0
    for number, interaction in enumerate(cassette.interactions):
        request, response = interaction["request"], interaction["response"]
        if request["path"] != "/v1/messages" or not isinstance(request.get("body"), dict):
            continue
        body = {k: v for k, v in request["body"].items() if k != "stream"}
        headers = {"x-api-key": "check", "anthropic-version": "2023-06-01"}
        beta = (request.get("headers") or {}).get("anthropic-beta")
        if not beta:  # many recorders drop the header: assume the betas the body's fields need
            beta = ",".join(v[0] for k, v in betas.gated_fields().items() if k in body)
        if beta:
            headers["anthropic-beta"] = beta
        wire = WireRequest("POST", "/v1/messages", headers, _json.dumps(body))
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
