"""`mockspike serve | validate | cassette`: the command line."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Sequence
from typing import Any

from mockspike import _json
from mockspike._version import __version__
from mockspike.adapters.bounds import Bounds
from mockspike.adapters.guard import ADMIN_PREFIX, bind_warning, is_loopback
from mockspike.cassettes import tools as cassette_tools
from mockspike.contract.catalog import load_profile, profile_names
from mockspike.contract.validate import check_message_request, parse_body
from mockspike.engine.engine import new_request_id
from mockspike.model.errors import ApiError, error_body
from mockspike.model.pacing import Pacing
from mockspike.settings import RECORD_MODES, ReplayTiming, Settings
from mockspike.state.journal import MAX_ENTRIES
from mockspike.synthetic.default import MODES


class _Help(argparse.RawDescriptionHelpFormatter):
    """Each flag's help says its default (when it has one worth saying), and the examples
    of a command's epilog keep their lines."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default in (None, False, [], argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        return f"{text} (default: {default})" if text else f"default: {default}"


SERVE_EXAMPLES = """examples:
  mockspike serve                                   # the bytespike gateway on 127.0.0.1:8000
  mockspike serve --profile anthropic --port 9000   # the upstream API
  mockspike serve --script rules.yaml --watch       # scripted answers, reloaded on change
  mockspike serve --upstream https://llm.bytespike.ai --cassette tests/cassettes/app.json \\
      --record-mode once                            # record real traffic, then replay it
  mockspike serve --state redis://127.0.0.1:6379/0 --workers 2   # several processes, one fake
"""


def parser() -> argparse.ArgumentParser:
    """The whole command line (the reference page `docs/reference/cli.md` is made from it)."""
    parser = argparse.ArgumentParser(prog="mockspike", description=__doc__, formatter_class=_Help)
    parser.add_argument("--version", action="version", version=f"mockspike {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the fake server",
        description="Run the fake server: the Messages API (and the admin API and dashboard "
        "under /_mockspike/) on HOST:PORT.",
        epilog=SERVE_EXAMPLES,
        formatter_class=_Help,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port; 0 picks a free one")
    serve.add_argument(
        "--profile",
        default="bytespike",
        choices=profile_names(),
        help="which API to fake: bytespike (the gateway) or anthropic (the upstream API)",
    )
    serve.add_argument(
        "--script",
        metavar="PATH",
        help="a JSON or YAML file of rules, or a folder of them, to load at start",
    )
    serve.add_argument(
        "--watch",
        action="store_true",
        help="with --script: load it again whenever its files change (the journal, wallets "
        "and limits stay; a file that does not load is refused and the last good rules stay)",
    )
    serve.add_argument(
        "--strict",
        action="store_true",
        help="refuse requests no scripted rule matches (a 400 naming the closest rule)",
    )
    serve.add_argument(
        "--synthetic",
        choices=list(MODES),
        help="what answers unscripted requests: default, or agent (offered tools are called)",
    )
    serve.add_argument(
        "--time-scale",
        type=float,
        default=None,
        help="multiply every delay (0.1: ten times faster)",
    )
    serve.add_argument("--ttft", type=float, default=None, help="seconds to the first token")
    serve.add_argument(
        "--tokens-per-second", type=float, default=None, help="output pace after the first token"
    )
    serve.add_argument("--jitter", type=float, default=None, help="±fraction on every delay")
    logging_ = serve.add_mutually_exclusive_group()
    logging_.add_argument("--quiet", action="store_true", help="log no request")
    logging_.add_argument(
        "--verbose", action="store_true", help="log each request's body and full messages too"
    )
    serve.add_argument("--config", help="a JSON or YAML gateway configuration (keys, wallets…)")
    admin = serve.add_mutually_exclusive_group()
    admin.add_argument(
        "--admin-token",
        default=os.environ.get("MOCKSPIKE_ADMIN_TOKEN") or None,
        help="require this token (x-mockspike-admin-token, or open the dashboard once as "
        "/_mockspike/?token=TOKEN) on /_mockspike/ (default: $MOCKSPIKE_ADMIN_TOKEN; bound "
        "beyond loopback without it or --admin-open, serve makes one and prints it)",
    )
    admin.add_argument(
        "--admin-open",
        action="store_true",
        help="serve the admin API and dashboard to any client, without a token (a server "
        "bound beyond loopback on a network you trust)",
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name the admin API answers under, beyond IP addresses and localhost "
        "(repeatable; anything else is refused, against DNS rebinding)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="trust X-Forwarded-For from these proxies (comma-separated); none by default",
    )
    serve.add_argument(
        "--header-timeout",
        type=float,
        default=Bounds.header_timeout,
        metavar="SECONDS",
        help="close a connection whose request headers take longer "
        f"(default {Bounds.header_timeout:g})",
    )
    serve.add_argument(
        "--body-timeout",
        type=float,
        default=Bounds.body_timeout,
        metavar="SECONDS",
        help=f"answer 408 to a body that takes longer (default {Bounds.body_timeout:g})",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=Bounds.max_connections,
        metavar="N",
        help=f"open connections at once; more get a 503 (default {Bounds.max_connections})",
    )
    serve.add_argument(
        "--journal-size",
        type=int,
        default=MAX_ENTRIES,
        metavar="N",
        help=f"requests the journal keeps, oldest dropped first (default {MAX_ENTRIES})",
    )
    serve.add_argument("--cassette", help="replay from (and record into) this cassette file")
    serve.add_argument(
        "--record-mode",
        choices=RECORD_MODES,
        help="none (replay only, the default), once (record if the cassette does not exist), "
        "new_episodes (record what it lacks), rewrite (record everything again; all is its "
        "old name)",
    )
    serve.add_argument(
        "--upstream", help="the real gateway to record from, e.g. https://llm.bytespike.ai"
    )
    serve.add_argument(
        "--replay-timing",
        choices=[t.value for t in ReplayTiming],
        help="instant (the default), or recorded: wait as long as the recording did",
    )
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
        "--max-recordings",
        type=int,
        metavar="N",
        help="requests in flight to the upstream at once (default 64); others queue",
    )
    serve.add_argument(
        "--queue-timeout",
        type=float,
        metavar="SECONDS",
        help="how long a request queues for the upstream before a 529 (default 30)",
    )
    serve.add_argument(
        "--ignore-path",
        action="append",
        default=None,
        metavar="DOTTED",
        help="a body path left out of matching (default: metadata.user_id)",
    )
    serve.add_argument(
        "--state",
        metavar="URL",
        help="keep the gateway's state in Redis (redis://HOST:PORT/DB), shared by every "
        "process pointed at it (default: in this process)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="serve with N processes on one port (needs --state redis://…)",
    )
    serve.add_argument(
        "--files-dir",
        metavar="DIR",
        help="keep Files API uploads in this directory (default: in memory)",
    )

    validate = commands.add_parser(
        "validate",
        help="check a request body against the contract, or a script (--script)",
        description="examples: mockspike validate body.json; mockspike validate --script "
        "rules.yaml (the message serve --watch gives for a script it refuses)",
    )
    validate.add_argument("file", help="a JSON file, or - for standard input")
    validate.add_argument(
        "--profile", default="bytespike", choices=profile_names(), help="the API whose rules apply"
    )
    validate.add_argument(
        "--script", action="store_true", help="FILE is a script file, or a folder of them"
    )

    cassette = commands.add_parser(
        "cassette", help="inspect, redact, check, import or export cassettes"
    )
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
    exported = tools.add_parser(
        "export", help="write a cassette back as a vcrpy / pytest-recording YAML cassette"
    )
    exported.add_argument(
        "--vcr", action="store_true", required=True, help="vcrpy's YAML format (the one offered)"
    )
    exported.add_argument("source")
    exported.add_argument("target")
    exported.add_argument(
        "--base-url",
        default="https://api.anthropic.com",
        help="the host the exported requests name (default https://api.anthropic.com)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "cassette":
            return cassette_tools.run(args)
        if args.script:
            return _validate_script(args.file, args.profile)
        return _validate(args.file, args.profile)
    except BrokenPipeError:  # `mockspike cassette show … | head`: the reader left, fine
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the exit flush does not complain
        return 0


def _pacing(given: dict[str, float | None]) -> Pacing | None:
    """A `Pacing` from the pacing flags given (None: none given)."""
    chosen = {k: v for k, v in given.items() if v is not None}
    return Pacing(**chosen) if chosen else None  # type: ignore[arg-type]


def _port(text: str) -> int:
    """A TCP port, 0 to 65535 (0: a free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 0 to 65535 (0: any free one)")
    return port


def _serve(args: argparse.Namespace) -> int:
    from mockspike.adapters import request_log, serving
    from mockspike.mock import MockSpike

    pace = {"ttft": args.ttft, "tokens_per_second": args.tokens_per_second, "jitter": args.jitter}
    options = {
        "strict": args.strict or None,
        "time_scale": args.time_scale,
        "config": args.config,
        "synthetic": args.synthetic,
        "admin_token": args.admin_token,
        "admin_open": args.admin_open or None,
        "cassette": args.cassette,
        "record_mode": args.record_mode,
        "upstream": args.upstream,
        "replay_timing": args.replay_timing,
        "redact_headers": args.redact_header or None,
        "redact_paths": args.redact_path or None,
        "ignore": args.ignore_path,
        "files_dir": args.files_dir,
        "allowed_hosts": tuple(args.allowed_host),
        "forwarded_allow_ips": args.forwarded_allow_ips,
        "journal_size": args.journal_size,
        "max_recordings": args.max_recordings,
        "queue_timeout": args.queue_timeout,
        "state": args.state,
    }
    if args.workers < 1:
        print("mockspike: cannot start: --workers is at least 1", file=sys.stderr)
        return 2
    if args.workers > 1 and args.state in (None, "memory"):
        print(
            "mockspike: cannot start: --workers above 1 needs --state redis://HOST:PORT/DB "
            "(each worker would otherwise have its own limits, wallets, rules and journal)",
            file=sys.stderr,
        )
        return 2
    if args.upstream and not args.cassette:
        print("mockspike: --upstream records into a cassette: add --cassette PATH", file=sys.stderr)
        return 2
    if args.upstream and (args.record_mode or "none") == "none":
        print(
            "mockspike: --upstream has no effect in record mode none (replay only); add "
            "--record-mode once (record if the cassette does not exist yet), new_episodes "
            "(record what it lacks) or rewrite (record everything again; also all)",
            file=sys.stderr,
        )
        return 2
    made_token = not args.admin_token and not args.admin_open and not is_loopback(args.host)
    if made_token:  # reachable from elsewhere: protected by a token the banner shows
        options["admin_token"] = secrets.token_urlsafe(18)
        options["admin_loopback"] = True
    try:
        options["pacing"] = _pacing(pace)
        options["bounds"] = Bounds(
            header_timeout=args.header_timeout,
            body_timeout=args.body_timeout,
            max_connections=args.max_connections,
        )
        settings = Settings.build(
            profile=args.profile, **{k: v for k, v in options.items() if v is not None}
        )
        fake = MockSpike.from_settings(settings)
    except (OSError, ValueError, TypeError) as exc:
        print(f"mockspike: cannot start: {exc}", file=sys.stderr)
        return 2
    if args.watch and not args.script:
        print("mockspike: --watch reloads a --script file: add --script PATH", file=sys.stderr)
        return 2
    if args.script:
        try:
            watcher = fake.watch_script(args.script, watch=args.watch)
        except ValueError as exc:
            print(f"mockspike: cannot load script {args.script}: {exc}", file=sys.stderr)
            fake.close()
            return 2
        if not watcher.status.applied:
            print(
                f"mockspike: {args.script} not loaded: the shared state already has rules "
                "from these files",
                file=sys.stderr,
            )
    try:
        sock = serving.bind(args.host, args.port)
    except OSError as exc:
        print(
            f"mockspike: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr
        )
        return 2
    if not args.quiet:
        fake.requests.subscribe(request_log.printer(verbose=args.verbose))
    url = serving.base_url(sock, openable=True)
    banner = f"mockspike {__version__} ({args.profile} profile) serving on {url}"
    warning = bind_warning(args.host, settings.admin_token, open=args.admin_open)
    if warning:
        print(warning, file=sys.stderr)

    def announce() -> None:
        print(banner, flush=True)
        for line in _admin_lines(args.host, url, settings, made_token):
            print(line, flush=True)

    if args.workers > 1:
        if not args.watch:  # each worker opens its own connection to the state; with
            fake.close()  # --watch, this process keeps one to store the script's changes

        def worker_app() -> Any:
            try:
                worker = MockSpike.from_settings(settings)
            except OSError as exc:
                print(f"mockspike: a worker cannot start: {exc}", file=sys.stderr)
                raise SystemExit(2) from None
            if not args.quiet:
                worker.requests.subscribe(request_log.printer(verbose=args.verbose))
            return worker.app

        with fake:
            return serving.run_workers(
                worker_app,
                sock,
                args.workers,
                announce,
                settings.bounds,
                settings.forwarded_allow_ips,
            )
    with fake:
        serving.run(fake.app, sock, announce, settings.bounds, settings.forwarded_allow_ips)
    return 0


def _admin_lines(host: str, url: str, settings: Settings, made_token: bool) -> list[str]:
    """What a user needs to reach the admin API of a server bound beyond loopback (in a
    container, `docker run -p 8000:8000`): the address to open, and how it is protected."""
    if is_loopback(host):
        return []
    lines = [
        f"mockspike: bound to {host}: open {url} here; from elsewhere, this machine's "
        "address (from a container's host: the published port, http://localhost:PORT)"
    ]
    dashboard = f"{url}{ADMIN_PREFIX}"
    if settings.admin_open:
        lines.append(
            f"mockspike: admin API open to any client (--admin-open); dashboard {dashboard}"
        )
    elif made_token:
        token = settings.admin_token
        lines.append(
            f"mockspike: admin token {token} (made at start; choose one with --admin-token or "
            "MOCKSPIKE_ADMIN_TOKEN, or --admin-open): send it as x-mockspike-admin-token; "
            f"dashboard {dashboard}?token={token}"
        )
    else:
        lines.append(
            "mockspike: admin API protected by your --admin-token (x-mockspike-admin-token); "
            f"dashboard {dashboard}?token=YOUR_TOKEN"
        )
    return lines


def _validate_script(path: str, profile: str) -> int:
    from mockspike.mock import MockSpike
    from mockspike.script.files import SpecError
    from mockspike.script.source import ScriptSource

    fake = MockSpike(profile=profile)
    try:
        loaded = ScriptSource(path).load(fake.engine.check_rule)
    except SpecError as exc:
        print(f"mockspike: {exc}", file=sys.stderr)
        return 1
    print(f"ok: {loaded.summary()}")
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
