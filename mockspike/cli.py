"""`mockspike serve | validate | cassette`: the command line."""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import uvicorn

from . import _json, cassette_tools
from ._version import __version__
from .cassettes import RECORD_MODES
from .contract.catalog import load_profile, profile_names
from .contract.errors import ApiError, error_body
from .contract.validate import check_message_request, parse_body
from .engine import new_request_id

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
        default="none",
        choices=RECORD_MODES,
        help="none (replay only, the default), once, new_episodes, all",
    )
    serve.add_argument(
        "--upstream", help="the real gateway to record from, e.g. https://llm.bytespike.ai"
    )
    serve.add_argument("--replay-timing", default="instant", choices=("instant", "recorded"))
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
    from .mock import MockSpike, base_url, bind

    options: dict[str, Any] = {}
    if args.ignore_path is not None:
        options["ignore"] = tuple(args.ignore_path)
    try:
        fake = MockSpike(
            profile=args.profile,
            admin_token=args.admin_token,
            config=args.config,
            cassette=args.cassette,
            record_mode=args.record_mode,
            upstream=args.upstream,
            replay_timing=args.replay_timing,
            redact_headers=frozenset(args.redact_header),
            redact_paths=tuple(args.redact_path),
            **options,
        )
    except (OSError, ValueError) as exc:
        print(f"mockspike: cannot start: {exc}", file=sys.stderr)
        return 2
    if args.script:
        try:
            fake.load_script(args.script)
        except (OSError, ValueError) as exc:
            print(f"mockspike: cannot load script {args.script}: {exc}", file=sys.stderr)
            return 2
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(
            f"mockspike: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr
        )
        return 2
    # uvloop and httptools are dependencies, so "auto" picks them; it falls back to asyncio
    # and h11 only where they do not exist (Windows, PyPy). `Server.run` sets up the loop.
    config = uvicorn.Config(fake.app, loop="auto", http="auto", log_level="warning", lifespan="off")
    banner = f"mockspike {__version__} ({args.profile} profile) serving on {base_url(sock)}"
    _Server(config, banner).run(sockets=[sock])
    return 0


class _Server(uvicorn.Server):
    """Prints the banner once it accepts connections, so scripts can wait on it; Ctrl-C
    and SIGTERM shut down gracefully and exit 0 (uvicorn would re-raise them)."""

    def __init__(self, config: uvicorn.Config, banner: str) -> None:
        super().__init__(config)
        self.banner = banner

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(self.banner, flush=True)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


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
