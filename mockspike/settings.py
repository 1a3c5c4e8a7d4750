"""One frozen `Settings` for every way of configuring a fake: `MockSpike(**options)`, the
pytest marker and ini/command-line options, and `mockspike serve`. Each option is declared
once, here; an unknown name fails here, with the nearest valid one."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any

from mockspike.contract.catalog import load_profile
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
        choices = ", ".join(str(m.value) for m in kind)
        raise ValueError(f"{what} is one of {choices}, not {value!r}") from None


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


_CASSETTE_NAMES = [f.name for f in fields(CassetteOptions) if f.name != "path"]


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
            raise ValueError(f"synthetic is one of {', '.join(MODES)}, not {self.synthetic!r}")
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
        """Every option name `build` takes."""
        return [f.name for f in fields(cls)] + _CASSETTE_NAMES

    @classmethod
    def build(cls, **options: Any) -> Settings:
        """Settings from flat options; `cassette=PATH` with `record_mode=`, `upstream=`,
        `replay_timing=`, `match_on=`, `ignore=`, `redact_headers=`, `redact_paths=`."""
        unknown = [name for name in options if name not in cls.names()]
        if unknown:
            raise UnknownOption(unknown, cls.names())
        given = {n: options.pop(n) for n in _CASSETTE_NAMES if n in options}
        cassette = options.pop("cassette", None)
        if isinstance(cassette, CassetteOptions):
            if given:
                raise TypeError(f"give {', '.join(given)} in the CassetteOptions itself")
        elif cassette is not None:
            cassette = CassetteOptions(Path(cassette), **given)
        elif given:
            raise TypeError(f"{', '.join(sorted(given))} given without a cassette")
        return cls(cassette=cassette, **options)


_SIMPLE = {
    "bool": ((bool,), "True or False"),
    "float": ((int, float), "a number"),
    "int": ((int,), "a whole number"),
    "str": ((str,), "a string"),
    "str | None": ((str, type(None)), "a string or None"),
}


def _check_types(settings: Settings) -> None:
    """A value of the wrong type (`strict="yes"`, from a marker or kwargs) is refused, not
    taken for what its truth value happens to be."""
    for f in fields(settings):
        kinds = _SIMPLE.get(str(f.type))
        value = getattr(settings, f.name)
        if kinds is None:
            continue
        wrong_bool = isinstance(value, bool) and bool not in kinds[0]
        if not isinstance(value, kinds[0]) or wrong_bool:
            raise TypeError(f"{f.name} must be {kinds[1]}, not {value!r}")


def _gateway_config(value: Any) -> GatewayConfig:
    if isinstance(value, dict):
        return GatewayConfig.from_dict(value)
    if isinstance(value, (str, Path)):
        return GatewayConfig.load(value)
    raise TypeError(f"config is a GatewayConfig, a dict or a file path, not {value!r}")
