"""`mockspike serve | validate | cassette`: the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import _json
from ._version import __version__
from .cassettes import tools as cassette_tools
from .contract.catalog import load_profile, profile_names
from .contract.errors import ApiError, error_body
from .contract.validate import check_message_request, parse_body
from .core.engine import new_request_id
from .settings import RECORD_MODES, ReplayTiming, Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mockspike", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mockspike {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the fake server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one")
    serve.add_argument("--profile", default="bytespike", choices=profile_names())
    serve.add_argument("--script", help="a JSON or YAML file of rules to load at start")
    serve.add_argument("--config", help="a JSON or YAML gateway configuration (keys, wallets…)")
    serve.add_argument(
        "--admin-token",
        help="require this token (x-mockspike-admin-token) on /_mockspike/; needed to use "
        "the admin API when bound to a non-loopback address",
    )
    serve.add_argument("--cassette", help="replay from (and record into) this cassette file")
    serve.add_argument(
        "--record-mode",
        choices=RECORD_MODES,
        help="none (replay only, the default), once, new_episodes, all",
    )
    serve.add_argument(
        "--upstream", help="the real gateway to record from, e.g. https://llm.bytespike.ai"
    )
    serve.add_argument("--replay-timing", choices=[t.value for t in ReplayTiming])
    serve.add_argument(
        "--redact-header",
        action="append",
        default=[],
        metavar="NAME",
        help="one more header to redact in the cassette (repeatable)",
    )
    serve.add_argument(
        "--redact-path",
        action="append",
        default=[],
        metavar="DOTTED",
        help="a request body path to redact, e.g. metadata.user_id (repeatable)",
    )
    serve.add_argument(
        "--ignore-path",
        action="append",
        default=None,
        metavar="DOTTED",
        help="a body path left out of matching (default: metadata.user_id)",
    )

    validate = commands.add_parser("validate", help="check a request body against the contract")
    validate.add_argument("file", help="a JSON file, or - for standard input")
    validate.add_argument("--profile", default="bytespike", choices=profile_names())

    cassette = commands.add_parser("cassette", help="inspect, redact, check or import cassettes")
    tools = cassette.add_subparsers(dest="tool", required=True)
    for name, text in (
        ("list", "one line an interaction"),
        ("show", "the interactions in full"),
        ("check", "every interaction against the contract"),
    ):
        tool = tools.add_parser(name, help=text)
        tool.add_argument("path")
        if name == "show":
            tool.add_argument("number", nargs="?", type=int, help="just this interaction")
        if name == "check":
            tool.add_argument("--profile", default="bytespike", choices=profile_names())
    redact = tools.add_parser("redact", help="redact secrets in place (atomically)")
    redact.add_argument("path")
    redact.add_argument("--header", action="append", default=[], metavar="NAME")
    redact.add_argument("--body-path", action="append", default=[], metavar="DOTTED")
    imported = tools.add_parser("import", help="convert a vcrpy / pytest-recording YAML cassette")
    imported.add_argument("source")
    imported.add_argument("target")

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "cassette":
        return cassette_tools.run(args)
    return _validate(args.file, args.profile)


def _serve(args: argparse.Namespace) -> int:
    from .adapters import serving
    from .mock import MockSpike

    options = {
        "config": args.config,
        "admin_token": args.admin_token,
        "cassette": args.cassette,
        "record_mode": args.record_mode,
        "upstream": args.upstream,
        "replay_timing": args.replay_timing,
        "redact_headers": args.redact_header or None,
        "redact_paths": args.redact_path or None,
        "ignore": args.ignore_path,
    }
    try:
        settings = Settings.build(
            profile=args.profile, **{k: v for k, v in options.items() if v is not None}
        )
        fake = MockSpike.from_settings(settings)
    except (OSError, ValueError, TypeError) as exc:
        print(f"mockspike: cannot start: {exc}", file=sys.stderr)
        return 2
    if args.script:
        try:
            fake.load_script(args.script)
        except (OSError, ValueError) as exc:
            print(f"mockspike: cannot load script {args.script}: {exc}", file=sys.stderr)
            return 2
    try:
        sock = serving.bind(args.host, args.port)
    except OSError as exc:
        print(
            f"mockspike: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr
        )
        return 2
    banner = f"mockspike {__version__} ({args.profile} profile) serving on {serving.base_url(sock)}"
    with fake:
        serving.run(fake.app, sock, lambda: print(banner, flush=True))
    return 0


def _validate(path: str, profile: str) -> int:
    try:
        raw = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()  # noqa: SIM115
    except OSError as exc:
        print(f"mockspike: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        check_message_request(parse_body(raw), load_profile(profile))
    except ApiError as error:
        envelope = error_body(error.type, error.message, new_request_id())
        print(f"HTTP {error.status}", file=sys.stderr)
        print(_json.dumps(envelope).decode())
        return 1
    print("ok")
    return 0
