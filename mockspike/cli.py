"""`mockspike serve | validate | cassette`: the command line."""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mockspike import _json
from mockspike._version import __version__
from mockspike.adapters.guard import ADMIN_PREFIX, bind_warning, is_loopback
from mockspike.cassettes import tools as cassette_tools
from mockspike.contract.catalog import load_profile
from mockspike.contract.validate import check_message_request, parse_body
from mockspike.engine.engine import new_request_id
from mockspike.model.errors import ApiError, error_body
from mockspike.settings import OPTIONS, PART_OF, Option, Settings, switch

if TYPE_CHECKING:
    from mockspike.mock import MockSpike


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


def add_options(command: argparse.ArgumentParser, name: str) -> None:
    """`command`'s flags, made from the rows of `OPTIONS` that `name` takes."""
    groups: dict[str, argparse._MutuallyExclusiveGroup] = {}
    for option in OPTIONS:
        if option.flag is None or name not in option.commands:
            continue
        into: Any = command
        if option.exclusive:
            if option.exclusive not in groups:
                groups[option.exclusive] = command.add_mutually_exclusive_group()
            into = groups[option.exclusive]
        into.add_argument(option.flag, dest=option.name, help=_help(option), **_kind(option))


def _help(option: Option) -> str:
    shown = option.shown_default
    if option.env:
        shown = f"${option.env}" + (f", else {shown}" if shown is not None else "")
    if shown is None or "default" in option.help:
        return option.help
    return f"{option.help} (default: {shown})"


def _kind(option: Option) -> dict[str, Any]:
    """How argparse reads the flag; its default is what `Settings` would take anyway (None
    for the parts of a cassette, pacing or bounds: only those given build one)."""
    default = option.default if not option.keyword or option.name in PART_OF else None
    if option.keyword and option.name not in PART_OF:
        default = getattr(Settings, option.name, None)
    if option.env:
        default = os.environ.get(option.env) or default
    if option.parse is switch:
        return {"action": "store_true", "default": bool(default)}
    kind: dict[str, Any] = {"default": default, "metavar": option.metavar}
    if option.choices is not None:
        kind["choices"] = list(option.choices())
    else:
        kind["type"] = _argument(option.parse)
    if option.many:
        kind["action"] = "append"
        kind["default"] = None
    return kind


def _argument(parse: Any) -> Any:
    """`parse` as argparse's `type`: its ValueError's message is what the user reads."""

    def read(value: str) -> Any:
        try:
            return parse(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    read.__name__ = parse.__name__
    return read


def serve_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `Settings.build` options `serve`'s flags give (those left out keep their
    defaults)."""
    given: dict[str, Any] = {}
    for option in OPTIONS:
        if not option.keyword or option.flag is None or "serve" not in option.commands:
            continue
        value = getattr(args, option.name)
        if value is not None:
            given[option.name] = tuple(value) if option.many else value
    return given


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
    add_options(serve, "serve")

    validate = commands.add_parser(
        "validate",
        help="check a request body against the contract, or a script (--script)",
        description="examples: mockspike validate body.json; mockspike validate --script "
        "rules.yaml (the message serve --watch gives for a script it refuses)",
    )
    validate.add_argument("file", help="a JSON file, or - for standard input")
    add_options(validate, "validate")
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
            add_options(tool, "cassette check")
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


def _serve(args: argparse.Namespace) -> int:
    from mockspike.adapters import serving
    from mockspike.mock import MockSpike

    refusal = _refusal(args)
    if refusal:
        print(f"mockspike: {refusal}", file=sys.stderr)
        return 2
    options = serve_options(args)
    made_token = not args.admin_token and not args.admin_open and not is_loopback(args.host)
    if made_token:  # reachable from elsewhere: protected by a token the banner shows
        options["admin_token"] = secrets.token_urlsafe(18)
        options["admin_loopback"] = True
    try:
        settings = Settings.build(**options)
        fake = MockSpike.from_settings(settings)
    except (OSError, ValueError, TypeError) as exc:
        print(f"mockspike: cannot start: {exc}", file=sys.stderr)
        return 2
    if args.script and not _load_script(fake, args.script, args.watch):
        return 2
    try:
        sock = serving.bind(args.host, args.port)
    except OSError as exc:
        print(
            f"mockspike: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr
        )
        return 2
    _log_requests(fake, args)
    url = serving.base_url(sock, openable=True)
    banner = f"mockspike {__version__} ({settings.profile} profile) serving on {url}"
    warning = bind_warning(args.host, settings.admin_token, open=args.admin_open)
    if warning:
        print(warning, file=sys.stderr)

    def announce() -> None:
        print(banner, flush=True)
        for line in _admin_lines(args.host, url, settings, made_token):
            print(line, flush=True)

    with fake:
        if args.workers > 1:
            return _run_workers(args, fake, settings, sock, announce)
        serving.run(fake.app, sock, announce, settings.bounds, settings.forwarded_allow_ips)
    return 0


def _refusal(args: argparse.Namespace) -> str | None:
    """What is wrong with a combination of `serve`'s flags (None: nothing)."""
    if args.workers < 1:
        return "cannot start: --workers is at least 1"
    if args.workers > 1 and args.state in (None, "memory"):
        return (
            "cannot start: --workers above 1 needs --state redis://HOST:PORT/DB "
            "(each worker would otherwise have its own limits, wallets, rules and journal)"
        )
    if args.upstream and not args.cassette:
        return "--upstream records into a cassette: add --cassette PATH"
    if args.upstream and (args.record_mode or "none") == "none":
        return (
            "--upstream has no effect in record mode none (replay only); add "
            "--record-mode once (record if the cassette does not exist yet), new_episodes "
            "(record what it lacks) or rewrite (record everything again; also all)"
        )
    if args.watch and not args.script:
        return "--watch reloads a --script file: add --script PATH"
    return None


def _load_script(fake: MockSpike, script: str, watch: bool) -> bool:
    """Load `--script` into the fake (and watch it); False: it did not load (said why)."""
    try:
        watcher = fake.watch_script(script, watch=watch)
    except ValueError as exc:
        print(f"mockspike: cannot load script {script}: {exc}", file=sys.stderr)
        fake.close()
        return False
    if not watcher.status.applied:
        print(
            f"mockspike: {script} not loaded: the shared state already has rules from these files",
            file=sys.stderr,
        )
    return True


def _log_requests(fake: MockSpike, args: argparse.Namespace) -> None:
    from mockspike.adapters import request_log

    if not args.quiet:
        fake.requests.subscribe(request_log.printer(verbose=args.verbose))


def _run_workers(
    args: argparse.Namespace,
    fake: MockSpike,
    settings: Settings,
    sock: socket.socket,
    announce: Callable[[], None],
) -> int:
    """Serve with `--workers` processes, each with its own fake on the shared state."""
    from mockspike.adapters import serving
    from mockspike.mock import MockSpike

    if not args.watch:  # each worker opens its own connection to the state; with
        fake.close()  # --watch, this process keeps one to store the script's changes

    def worker_app() -> Any:
        try:
            worker = MockSpike.from_settings(settings)
        except OSError as exc:
            print(f"mockspike: a worker cannot start: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        _log_requests(worker, args)
        return worker.app

    return serving.run_workers(
        worker_app, sock, args.workers, announce, settings.bounds, settings.forwarded_allow_ips
    )


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
