"""One frozen `Settings` for every way of configuring a fake: `MockSpike(**options)`, the
pytest marker and ini/command-line options, and `mockspike serve`. Each option is declared
once, here: a row of `OPTIONS` names its keyword, `serve` flag, pytest option, ini key and
help, and the command line (`cli.py`), the pytest plugin and the options reference page are
built from the table. An unknown name fails here, with the nearest valid one."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from mockspike.contract.catalog import load_profile, profile_names
from mockspike.gateway.keys import GatewayConfig
from mockspike.model.clock import Clock
from mockspike.model.pacing import Pacing
from mockspike.state.journal import MAX_ENTRIES


class RecordMode(str, Enum):
    """What a cassette does with a request it has no recording for (VCR's names)."""

    NONE = "none"
    """Replay only: a miss is an error."""
    ONCE = "once"
    """Record only if the cassette file did not exist."""
    NEW_EPISODES = "new_episodes"
    """Replay hits, record misses."""
    REWRITE = "rewrite"
    """Record everything, replacing the cassette's contents (pytest-recording's name)."""
    ALL = "rewrite"
    """VCR's name for `rewrite`, kept: `RecordMode("all")` is `RecordMode.REWRITE`."""

    @classmethod
    def _missing_(cls, value: object) -> RecordMode | None:
        return cls.REWRITE if value == "all" else None


class ReplayTiming(str, Enum):
    INSTANT = "instant"
    RECORDED = "recorded"
    """Wait as long as the recording did."""


RECORD_MODES = (*(mode.value for mode in RecordMode), "all")
"""Every name a record mode takes (`all` is `rewrite`)."""


class UnknownOption(TypeError):
    """An option name no setting has; the message names the nearest valid one."""

    def __init__(self, names: list[str], valid: list[str]) -> None:
        self.names = names
        hints = [
            f"did you mean {close[0]!r}?"
            for name in names
            if (close := difflib.get_close_matches(name, valid, n=1))
        ]
        self.hint = " ".join(hints) or f"options are {', '.join(valid)}"
        quoted = ", ".join(repr(n) for n in names)
        super().__init__(f"unknown option{'s' if len(names) > 1 else ''} {quoted}; {self.hint}")


def _enum(kind: type[Enum], value: Any, what: str) -> Any:
    try:
        return kind(value.value if isinstance(value, Enum) else value)
    except ValueError:
        raise ValueError(_one_of(what, [str(m.value) for m in kind], value)) from None


def _one_of(what: str, choices: list[str], value: Any) -> str:
    """`what is one of A, B, not 'x'`, with the nearest choice when one is near."""
    close = difflib.get_close_matches(str(value), choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{what} is one of {', '.join(choices)}, not {value!r}{hint}"


@dataclass(frozen=True)
class CassetteOptions:
    """A cassette to replay from and, as `record_mode` allows, record into via `upstream`;
    the rest are `Cassette`'s matching and redaction settings (None: its defaults)."""

    path: Path
    record_mode: RecordMode = RecordMode.NONE
    upstream: str | None = None
    replay_timing: ReplayTiming = ReplayTiming.INSTANT
    match_on: tuple[str | Callable[[dict[str, Any]], Any], ...] | None = None
    """Names of `mockspike.cassettes.MATCHERS`, or functions of the recorded request."""
    ignore: tuple[str, ...] | None = None
    redact_headers: frozenset[str] | None = None
    redact_paths: tuple[str, ...] | None = None
    max_recordings: int | None = None
    """Requests in flight to the upstream at once (None: 64); others queue."""
    queue_timeout: float | None = None
    """Seconds a request queues for one of them before a 529 (None: 30)."""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "path", Path(self.path))
        set_(self, "record_mode", _enum(RecordMode, self.record_mode, "record mode"))
        set_(self, "replay_timing", _enum(ReplayTiming, self.replay_timing, "replay timing"))
        for name in ("match_on", "ignore", "redact_paths"):
            value = getattr(self, name)
            if value is not None:
                one = isinstance(value, str) or callable(value)
                set_(self, name, (value,) if one else tuple(value))
        if self.redact_headers is not None:
            set_(self, "redact_headers", frozenset(self.redact_headers))

    def cassette_kwargs(self) -> dict[str, Any]:
        """The matching and redaction settings given, as `Cassette.load` takes them."""
        names = ("match_on", "ignore", "redact_headers", "redact_paths")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


MiB = 1024 * 1024


@dataclass(frozen=True)
class Bounds:
    """The server's read deadlines and resource bounds (seconds, bytes, counts), applied
    by `adapters/bounds.py`."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive: float = 5.0
    """Seconds an idle keep-alive connection stays open."""
    max_header_bytes: int = 64 * 1024
    max_connections: int = 1000
    max_bytes_in_flight: int = 256 * MiB
    """Request bodies being read or handled, summed over every client."""

    def __post_init__(self) -> None:
        for name in ("header_timeout", "body_timeout", "keep_alive"):
            value = getattr(self, name)
            if not 0 < value < float("inf"):
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        for name in ("max_header_bytes", "max_connections", "max_bytes_in_flight"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


@dataclass(frozen=True)
class Settings:
    """How a fake behaves. Build it with `Settings.build(**options)` (flat names: the
    cassette's options beside the rest), as `MockSpike(...)`, the marker and the CLI do."""

    profile: str = "bytespike"
    strict: bool = False
    """Refuse requests no scripted rule matches (a 400 that says which rule came closest)."""
    synthetic: str = "default"
    """What answers when no rule does: `default` (prose, structured outputs, forced tools) or
    `agent` (offered tools are called, tool results answered in text)."""
    pacing: Pacing | None = None
    time_scale: float = 1.0
    """Multiplies every delay of the pacing (0.01: a hundred times faster)."""
    config: GatewayConfig | None = None
    """Keys, scopes, wallets, rate limits (a `GatewayConfig`, its dict, or a file path)."""
    clock: Clock | None = None
    admin_token: str | None = None
    """Every admin request must send it (`x-mockspike-admin-token`, or the dashboard's cookie)."""
    admin_open: bool = False
    """Serve the admin API to any client without a token (a server bound beyond loopback,
    on a network the user trusts: `mockspike serve --admin-open`)."""
    admin_loopback: bool = False
    """With `admin_token`, loopback clients need none (the token `mockspike serve` makes
    itself when bound beyond loopback without either option)."""
    cassette: CassetteOptions | None = None
    files_dir: Path | None = None
    """Keep Files API uploads in this directory instead of memory."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names (beyond IP addresses and `localhost`) the admin API answers under."""
    bounds: Bounds = field(default_factory=Bounds)
    """The server's read deadlines and resource bounds."""
    forwarded_allow_ips: str | None = None
    """Proxies whose `X-Forwarded-For` is trusted (comma-separated); none by default."""
    journal_size: int = MAX_ENTRIES
    """Requests the journal keeps (the oldest go first)."""
    journal_raw: bool = False
    """Keep secret headers and body paths in the journal as received (in-process use)."""
    state: str | None = None
    """Where the gateway's state lives: None (this process) or `redis://HOST:PORT/DB`,
    shared by every fake pointed at it (see docs/how-to/redis.md)."""
    assert_all_used: bool = True
    """pytest only: fail a test whose scripted rules were not all used."""
    assert_all_matched: bool = True
    """pytest only: with `strict`, fail a test whose requests did not all match a rule."""

    def __post_init__(self) -> None:
        _check_types(self)
        load_profile(self.profile)  # a clear ValueError names the profiles that exist
        from mockspike.synthetic.default import MODES

        if self.synthetic not in MODES:
            raise ValueError(_one_of("synthetic", list(MODES), self.synthetic))
        if self.time_scale < 0:
            raise ValueError("time_scale must not be negative")
        if self.state not in (None, "memory") and not str(self.state).startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError(f"state is 'memory' or a redis://HOST:PORT/DB URL, not {self.state!r}")
        if self.files_dir is not None and not isinstance(self.files_dir, Path):
            object.__setattr__(self, "files_dir", Path(self.files_dir))
        if isinstance(self.allowed_hosts, str):
            object.__setattr__(self, "allowed_hosts", (self.allowed_hosts,))
        object.__setattr__(self, "allowed_hosts", tuple(self.allowed_hosts))
        if self.admin_open and self.admin_token:
            raise ValueError(
                "admin_open serves the admin API without a token: give one or the other"
            )
        if self.journal_size < 1:
            raise ValueError("journal_size must be at least 1")
        if self.config is not None and not isinstance(self.config, GatewayConfig):
            object.__setattr__(self, "config", _gateway_config(self.config))

    @classmethod
    def names(cls) -> list[str]:
        """Every option name `build` takes: the fields, then the flat names of the cassette,
        pacing and bounds options (the keywords of `OPTIONS`)."""
        return [f.name for f in fields(cls)] + [n for n in KEYWORDS if n in PART_OF]

    @classmethod
    def build(cls, **options: Any) -> Settings:
        """Settings from flat options: `cassette=PATH` with `record_mode=`, `upstream=`,
        `match_on=`…; `ttft=`, `tokens_per_second=`, `jitter=` for the pacing;
        `header_timeout=`, `keep_alive=`… for the bounds (or each part as one value)."""
        unknown = [name for name in options if name not in cls.names()]
        if unknown:
            raise UnknownOption(unknown, cls.names())
        for part in _PARTS:
            given = {n: options.pop(n) for n in list(options) if PART_OF.get(n) == part}
            if given or part in options:
                options[part] = _part(part, options.get(part), given)
        return cls(**options)


def _part(part: str, whole: Any, given: dict[str, Any]) -> Any:
    """The cassette, pacing or bounds value from what was given as a whole (a value, or
    a cassette's path) and from its flat options; never both."""
    kind = _PARTS[part]
    for f in fields(kind):
        if f.name in given:
            _check_value(f.name, given[f.name], str(f.type))
    if isinstance(whole, kind):
        if given:
            raise TypeError(f"give {', '.join(given)} in the {kind.__name__} itself, not beside it")
        return whole
    if part == "cassette":
        if whole is None and given:
            raise TypeError(f"{', '.join(sorted(given))} given without a cassette")
        return None if whole is None else CassetteOptions(Path(whole), **given)
    if whole is not None and given:
        raise TypeError(f"{part} is a {kind.__name__}, not {whole!r}")
    return kind(**given) if given else whole


_SIMPLE = {
    "bool": ((bool,), "True or False"),
    "float": ((int, float), "a number"),
    "int": ((int,), "a whole number"),
    "str": ((str,), "a string"),
    "str | None": ((str, type(None)), "a string or None"),
    "float | None": ((int, float, type(None)), "a number or None"),
    "int | None": ((int, type(None)), "a whole number or None"),
}


def _check_types(settings: Settings) -> None:
    """A value of the wrong type (`strict="yes"`, from a marker or kwargs) is refused, not
    taken for what its truth value happens to be."""
    for f in fields(settings):
        _check_value(f.name, getattr(settings, f.name), str(f.type))


def _check_value(name: str, value: Any, annotation: str) -> None:
    kinds = _SIMPLE.get(annotation)
    if kinds is None:
        return
    wrong_bool = isinstance(value, bool) and bool not in kinds[0]
    if not isinstance(value, kinds[0]) or wrong_bool:
        raise TypeError(f"{name} must be {kinds[1]}, not {value!r}")


def _gateway_config(value: Any) -> GatewayConfig:
    if isinstance(value, dict):
        return GatewayConfig.from_dict(value)
    if isinstance(value, (str, Path)):
        return GatewayConfig.load(value)
    raise TypeError(f"config is a GatewayConfig, a dict or a file path, not {value!r}")


# -- the table of options ------------------------------------------------------------------
#
# One row an option. Its keyword is the name `MockSpike(...)`, `Settings.build` and the
# pytest marker take (a field of `Settings`, or of the cassette, pacing or bounds options it
# builds); `flag` is `mockspike serve`'s, `pytest_flag` and `ini` the pytest plugin's. The
# command line, the plugin and docs/reference/options.md are made from these rows alone.


def text(value: str) -> str:
    return value


def number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number (e.g. 0.5)") from None


def whole(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number (e.g. 100)") from None


def port(value: str) -> int:
    """A TCP port, 0 to 65535 (0: a free one)."""
    try:
        chosen = int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a port number") from None
    if not 0 <= chosen <= 65535:
        raise ValueError(f"{chosen} is not a port: use 0 to 65535 (0: any free one)")
    return chosen


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def switch(value: str) -> bool:
    """A yes/no option: a flag on the command line, `true`/`false` in an ini file."""
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"{value!r} is not true or false (one of {', '.join(_TRUE + _FALSE)})")


def _synthetic_modes() -> list[str]:
    from mockspike.synthetic.default import MODES  # the replies load only when asked

    return list(MODES)


def _record_modes() -> list[str]:
    return list(RECORD_MODES)


def _replay_timings() -> list[str]:
    return [t.value for t in ReplayTiming]


Where = Literal["test", "server", "session"]


@dataclass(frozen=True)
class Option:
    """One option, as every surface spells it (None: that surface has no such option)."""

    name: str
    """The keyword of `MockSpike(...)`, `Settings.build` and the marker (or, with
    `keyword=False`, the option's name on the surfaces it has)."""
    help: str
    parse: Callable[[str], Any] = text
    """Text (a flag's or an ini key's value) to value; a ValueError says what is wrong."""
    flag: str | None = None
    """`mockspike serve`'s flag (and `commands`' other commands')."""
    pytest_flag: str | None = None
    ini: str | None = None
    keyword: bool = True
    choices: Callable[[], Sequence[str]] | None = None
    many: bool = False
    """A list: a flag given once a value, an ini key with one a line, a pytest option with
    commas between them; a tuple as a keyword."""
    metavar: str | None = None
    default: Any = None
    """Said where the keyword's field has no default of its own (a flag of `serve` only)."""
    env: str | None = None
    """`serve` reads it when the flag is not given."""
    commands: tuple[str, ...] = ("serve",)
    exclusive: str | None = None
    """Flags of one group exclude each other."""
    where: Where = "test"
    """What the pytest option and ini key set: each fixture's fake (`test`), the
    `mockspike_server` fixture only (`server`), or the run (`session`)."""
    example: str | None = None
    """A value as text, for the reference page and the tests (None: no text form)."""
    in_pytest: str | None = None
    """What more the option means under pytest (said by its pytest help and the page)."""

    def read(self, value: str) -> Any:
        """The value `value` (a flag's or ini key's text) gives; a ValueError teaches."""
        if self.choices is not None:
            choices = list(self.choices())
            if value not in choices:
                close = difflib.get_close_matches(value, choices, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"{value!r} is not one of {', '.join(choices)}{hint}")
        return self.parse(value)

    @property
    def shown_default(self) -> Any:
        """The default the help and reference page state (None: none worth saying)."""
        value = self.default if self.default is not None else _field_default(self.name)
        if value is None or value is False or value == ():
            return None
        if isinstance(value, Enum):
            return value.value
        return f"{value:g}" if isinstance(value, float) else value


def _field_default(name: str) -> Any:
    for kind in (Settings, *_PARTS.values()):
        for f in fields(kind):
            if f.name == name:
                return None if f.default is MISSING else f.default
    return None


OPTIONS: tuple[Option, ...] = (
    Option(
        "host",
        "address to bind",
        flag="--host",
        keyword=False,
        default="127.0.0.1",
        example="0.0.0.0",
    ),
    Option(
        "port",
        "port; 0 picks a free one",
        port,
        flag="--port",
        keyword=False,
        default=8000,
        example="9000",
    ),
    Option(
        "profile",
        "which API to fake: bytespike (the gateway) or anthropic (the upstream API)",
        flag="--profile",
        pytest_flag="--mockspike-profile",
        ini="mockspike_profile",
        choices=profile_names,
        commands=("serve", "validate", "cassette check"),
        example="anthropic",
    ),
    Option(
        "script",
        "a JSON or YAML file of rules, or a folder of them, to load at start",
        flag="--script",
        keyword=False,
        metavar="PATH",
        example="rules.yaml",
    ),
    Option(
        "watch",
        "with --script: load it again whenever its files change (the journal, wallets and "
        "limits stay; a file that does not load is refused and the last good rules stay)",
        switch,
        flag="--watch",
        keyword=False,
    ),
    Option(
        "strict",
        "refuse requests no scripted rule matches (a 400 naming the closest rule)",
        switch,
        flag="--strict",
        pytest_flag="--mockspike-strict",
        ini="mockspike_strict",
        example="true",
    ),
    Option(
        "synthetic",
        "what answers unscripted requests: default (prose, structured outputs, forced tools) "
        "or agent (offered tools are called, tool results answered in text)",
        flag="--synthetic",
        ini="mockspike_synthetic",
        choices=_synthetic_modes,
        example="agent",
    ),
    Option(
        "time_scale",
        "multiply every delay (0.1: ten times faster)",
        number,
        flag="--time-scale",
        example="0.1",
    ),
    Option("ttft", "seconds to the first token", number, flag="--ttft", example="0.5"),
    Option(
        "tokens_per_second",
        "output pace after the first token (default: no delay)",
        number,
        flag="--tokens-per-second",
        example="80",
    ),
    Option("jitter", "±fraction on every delay", number, flag="--jitter", example="0.1"),
    Option("quiet", "log no request", switch, flag="--quiet", keyword=False, exclusive="log"),
    Option(
        "verbose",
        "log each request's body and full messages too",
        switch,
        flag="--verbose",
        keyword=False,
        exclusive="log",
    ),
    Option(
        "config",
        "a JSON or YAML gateway configuration (keys, scopes, wallets, rate limits); in Python "
        "also a GatewayConfig or its dict",
        flag="--config",
        metavar="PATH",
        example="gateway.yaml",
    ),
    Option(
        "admin_token",
        "require this token on /_mockspike/ (x-mockspike-admin-token, or open the dashboard "
        "once as /_mockspike/?token=TOKEN); bound beyond loopback without it or --admin-open, "
        "serve makes one and prints it",
        flag="--admin-token",
        env="MOCKSPIKE_ADMIN_TOKEN",
        exclusive="admin",
        example="s3cret",
    ),
    Option(
        "admin_open",
        "serve the admin API and dashboard to any client, without a token (a server bound "
        "beyond loopback on a network you trust)",
        switch,
        flag="--admin-open",
        exclusive="admin",
        example="true",
    ),
    Option(
        "admin_loopback",
        "with admin_token, loopback clients need none (what serve does with the token it makes)",
        switch,
        example="true",
    ),
    Option(
        "allowed_hosts",
        "a host name the admin API answers under, beyond IP addresses and localhost "
        "(repeatable; anything else is refused, against DNS rebinding)",
        flag="--allowed-host",
        many=True,
        metavar="NAME",
        example="mockspike.internal",
    ),
    Option(
        "forwarded_allow_ips",
        "trust X-Forwarded-For from these proxies (comma-separated); none by default",
        flag="--forwarded-allow-ips",
        metavar="IPS",
        example="10.0.0.1",
    ),
    Option(
        "header_timeout",
        "close a connection whose request headers take longer",
        number,
        flag="--header-timeout",
        metavar="SECONDS",
        example="5",
    ),
    Option(
        "body_timeout",
        "answer 408 to a body that takes longer",
        number,
        flag="--body-timeout",
        metavar="SECONDS",
        example="10",
    ),
    Option(
        "keep_alive",
        "close a keep-alive connection idle this long (behind a proxy or load balancer: "
        "longer than its idle timeout, or it may send a request on a connection being "
        "closed and answer 502)",
        number,
        flag="--keep-alive",
        metavar="SECONDS",
        example="75",
    ),
    Option(
        "max_connections",
        "open connections at once; more get a 503",
        whole,
        flag="--max-connections",
        metavar="N",
        example="100",
    ),
    Option(
        "max_header_bytes",
        "the most bytes a request's line and headers may take; more get a 431",
        whole,
        flag="--max-header-bytes",
        metavar="BYTES",
        example="16384",
    ),
    Option(
        "max_bytes_in_flight",
        "request bodies being read or handled at once, summed over every client; more get a 503",
        whole,
        flag="--max-bytes-in-flight",
        metavar="BYTES",
        example="67108864",
    ),
    Option(
        "journal_size",
        "requests the journal keeps, oldest dropped first",
        whole,
        flag="--journal-size",
        metavar="N",
        example="500",
    ),
    Option(
        "cassette",
        "replay from (and record into) this cassette file",
        in_pytest="the marker's cassette=NAME is NAME.json in the cassette dir; cassette=True "
        "is the test's own, named as pytest-recording names it",
        flag="--cassette",
        metavar="PATH",
        example="tests/cassettes/app.json",
    ),
    Option(
        "record_mode",
        "none (replay only, the default), once (record if the cassette does not exist), "
        "new_episodes (record what it lacks), rewrite (record everything again; all is its "
        "old name)",
        flag="--record-mode",
        pytest_flag="--mockspike-record-mode",
        ini="mockspike_record_mode",
        choices=_record_modes,
        example="once",
    ),
    Option(
        "upstream",
        "the real gateway a cassette records from, e.g. https://llm.bytespike.ai",
        in_pytest="default: $ANTHROPIC_BASE_URL, else the profile's",
        flag="--upstream",
        pytest_flag="--mockspike-upstream",
        metavar="URL",
        example="https://llm.bytespike.ai",
    ),
    Option(
        "replay_timing",
        "instant (the default), or recorded: wait as long as the recording did",
        flag="--replay-timing",
        choices=_replay_timings,
        example="recorded",
    ),
    Option(
        "redact_headers",
        "one more header to redact in the cassette (repeatable)",
        flag="--redact-header",
        many=True,
        metavar="NAME",
        example="x-tenant",
    ),
    Option(
        "redact_paths",
        "a request body path to redact, e.g. metadata.user_id (repeatable)",
        flag="--redact-path",
        many=True,
        metavar="DOTTED",
        example="metadata.user_id",
    ),
    Option(
        "max_recordings",
        "requests in flight to the upstream at once (default 64); others queue",
        whole,
        flag="--max-recordings",
        metavar="N",
        example="8",
    ),
    Option(
        "queue_timeout",
        "how long a request queues for the upstream before a 529 (default 30)",
        number,
        flag="--queue-timeout",
        metavar="SECONDS",
        example="5",
    ),
    Option(
        "ignore",
        "a body path left out of matching (repeatable; default: metadata.user_id)",
        flag="--ignore-path",
        many=True,
        metavar="DOTTED",
        example="metadata.user_id",
    ),
    Option(
        "match_on",
        "what a request must share with a recording to replay it: method, path, body, "
        "model, stream (default: method, path, body)",
        many=True,
        example="path",
    ),
    Option(
        "state",
        "keep the gateway's state in Redis (redis://HOST:PORT/DB), shared by every process "
        "pointed at it (default: in this process)",
        in_pytest="it sets the mockspike_server fixture's; the in-process fixtures keep "
        "theirs in memory",
        flag="--state",
        pytest_flag="--mockspike-state",
        ini="mockspike_state",
        metavar="URL",
        where="server",
        example="redis://127.0.0.1:6379/0",
    ),
    Option(
        "workers",
        "serve with N processes on one port (needs --state redis://…)",
        whole,
        flag="--workers",
        keyword=False,
        metavar="N",
        default=1,
        example="2",
    ),
    Option(
        "files_dir",
        "keep Files API uploads in this directory (default: in memory)",
        flag="--files-dir",
        metavar="DIR",
        example="uploads",
    ),
    Option("pacing", "the latency model as one Pacing (or give ttft, tokens_per_second, jitter)"),
    Option("clock", "the Clock the fake reads the time from (a test's own)"),
    Option("bounds", "the server's deadlines and bounds as one Bounds (or give each)"),
    Option(
        "journal_raw",
        "keep secret headers and body paths in the journal as received (in-process use)",
        switch,
        example="true",
    ),
    Option(
        "assert_all_used",
        "pytest: fail a test whose scripted rules were not all used",
        switch,
        example="false",
    ),
    Option(
        "assert_all_matched",
        "pytest: with strict, fail a test whose requests did not all match a rule",
        switch,
        example="false",
    ),
    Option(
        "cassette_dir",
        "where cassettes live (default: tests/cassettes; cassette=True: beside the test)",
        pytest_flag="--mockspike-cassette-dir",
        ini="mockspike_cassette_dir",
        metavar="DIR",
        keyword=False,
        example="tests/cassettes",
    ),
    Option(
        "allow_real_hosts",
        "let tests reach the real gateway / Anthropic hosts (they cost money)",
        switch,
        pytest_flag="--mockspike-allow-real-hosts",
        ini="mockspike_allow_real_hosts",
        keyword=False,
        where="session",
        example="true",
    ),
    Option(
        "blocked_hosts",
        "more hosts no test may reach (one a line)",
        ini="mockspike_blocked_hosts",
        keyword=False,
        many=True,
        where="session",
        example="api.example.com",
    ),
    Option(
        "block_network",
        "no socket connects beyond loopback (as pytest-recording's --block-network)",
        switch,
        pytest_flag="--mockspike-block-network",
        ini="mockspike_block_network",
        keyword=False,
        where="session",
        example="true",
    ),
    Option(
        "network_allowed_hosts",
        "with block_network: hosts still allowed (comma-separated; in the ini one a line)",
        pytest_flag="--mockspike-allowed-hosts",
        metavar="HOSTS",
        ini="mockspike_allowed_hosts",
        keyword=False,
        many=True,
        where="session",
        example="db.internal",
    ),
    Option(
        "verdict",
        "print the resilience verdict of each test whose fake served failures or faults",
        switch,
        pytest_flag="--mockspike-verdict",
        keyword=False,
        where="session",
    ),
)
"""Every option, in the order `serve --help` lists them."""

_PARTS: dict[str, type] = {"cassette": CassetteOptions, "pacing": Pacing, "bounds": Bounds}
"""The values `Settings.build` makes from flat options, by the field that holds them."""

KEYWORDS = [o.name for o in OPTIONS if o.keyword]
"""Every keyword of `MockSpike(...)`, `Settings.build` and the marker."""

PART_OF = {
    f.name: part
    for part, kind in _PARTS.items()
    for f in fields(kind)
    if f.name in KEYWORDS and f.name != "path"
}
"""A flat keyword's part (`ttft`: `pacing`)."""

BY_NAME = {o.name: o for o in OPTIONS}
