"""`mockspike serve | validate`: the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import Iterator, Sequence

import uvicorn

from . import __version__, _json
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

    validate = commands.add_parser("validate", help="check a request body against the contract")
    validate.add_argument("file", help="a JSON file, or - for standard input")
    validate.add_argument("--profile", default="bytespike", choices=profile_names())

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(
            args.host, args.port, args.profile, args.script, args.admin_token, args.config
        )
    return _validate(args.file, args.profile)


def _serve(
    host: str,
    port: int,
    profile: str,
    script: str | None,
    admin_token: str | None,
    config: str | None,
) -> int:
    from .mock import MockSpike, base_url, bind

    try:
        fake = MockSpike(profile=profile, admin_token=admin_token, config=config)
    except (OSError, ValueError) as exc:
        print(f"mockspike: cannot load config {config}: {exc}", file=sys.stderr)
        return 2
    if script:
        try:
            fake.load_script(script)
        except (OSError, ValueError) as exc:
            print(f"mockspike: cannot load script {script}: {exc}", file=sys.stderr)
            return 2
    try:
        sock = bind(host, port)
    except OSError as exc:
        print(f"mockspike: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 2
    server = _Server(uvicorn.Config(fake.app, log_level="warning", lifespan="off"))
    banner = f"mockspike {__version__} ({profile} profile) serving on {base_url(sock)}"
    asyncio.run(_run_announced(server, sock, banner))
    return 0


async def _run_announced(server: uvicorn.Server, sock: socket.socket, banner: str) -> None:
    """Print the banner once the server accepts connections, so scripts can wait on it."""
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.005)
    if server.started:
        print(banner, flush=True)
    await task


class _Server(uvicorn.Server):
    """Ctrl-C and SIGTERM shut down gracefully and exit 0 (uvicorn would re-raise them)."""

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
