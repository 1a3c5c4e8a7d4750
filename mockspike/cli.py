"""`mockspike serve | validate`: the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__, _json
from .contract.catalog import load_profile, profile_names
from .contract.errors import ApiError, error_body
from .contract.validate import check_message_request, parse_body
from .engine import new_request_id


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mockspike", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mockspike {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the fake server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one")
    serve.add_argument("--profile", default="bytespike", choices=profile_names())

    validate = commands.add_parser("validate", help="check a request body against the contract")
    validate.add_argument("file", help="a JSON file, or - for standard input")
    validate.add_argument("--profile", default="bytespike", choices=profile_names())

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args.host, args.port, args.profile)
    return _validate(args.file, args.profile)


def _serve(host: str, port: int, profile: str) -> int:
    import uvicorn

    from .mock import MockSpike, base_url, bind

    fake = MockSpike(profile=profile)
    try:
        sock = bind(host, port)
    except OSError as exc:
        print(f"mockspike: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"mockspike {__version__} ({profile} profile) serving on {base_url(sock)}", flush=True)
    server = uvicorn.Server(uvicorn.Config(fake.app, log_level="warning", lifespan="off"))
    server.run(sockets=[sock])
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
