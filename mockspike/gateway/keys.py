"""The gateway configuration: API keys with their status, scopes, IP allowlist, wallet and
rate limits. A file (`mockspike serve --config FILE`, JSON or YAML) or the same as a dict
or `GatewayConfig` for `MockSpike(config=...)`.

```yaml
keys:
  sk-alice:
    wallet: 25.0                      # credits (1 credit = 1 US cent); omit for no wallet
    scopes:
      models: [claude-haiku-4-5]      # ids or aliases; omit for all
      endpoints: [messages, count_tokens, models]
    ip_allowlist: [127.0.0.1, 10.0.0.0/8]
    rate_limits: {requests_per_minute: 50, input_tokens_per_minute: 50000,
                  output_tokens_per_minute: 10000}
  sk-old:
    status: revoked
```
With no configuration, any non-empty key is accepted and gets the profile's default limits.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockspike._files import load_data
from mockspike.state.buckets import Capacities

SCOPES = ("messages", "count_tokens", "models", "message_batches", "files", "chat_completions")
"""The endpoint names a key's `scopes.endpoints` may list: every endpoint of the table
(`engine/endpoints.py`) is one of them, by its `name` (the table checks it is)."""
_KEY_FIELDS = {"status", "scopes", "ip_allowlist", "wallet", "rate_limits"}
_LIMIT_FIELDS = ("requests_per_minute", "input_tokens_per_minute", "output_tokens_per_minute")


@dataclass(frozen=True)
class RateLimits:
    requests_per_minute: int
    input_tokens_per_minute: int
    output_tokens_per_minute: int

    @classmethod
    def from_dict(cls, raw: dict[str, Any], where: str) -> RateLimits:
        unknown = set(raw) - set(_LIMIT_FIELDS)
        missing = set(_LIMIT_FIELDS) - set(raw)
        if unknown or missing:
            raise ValueError(f"{where}: rate_limits needs exactly {', '.join(_LIMIT_FIELDS)}")
        values = {k: raw[k] for k in _LIMIT_FIELDS}
        if not all(isinstance(v, int) and v > 0 for v in values.values()):
            raise ValueError(f"{where}: rate limits must be positive integers")
        return cls(**values)

    @property
    def capacities(self) -> Capacities:
        """The buckets' capacities, in the buckets store's order."""
        return (
            self.requests_per_minute,
            self.input_tokens_per_minute,
            self.output_tokens_per_minute,
        )


@dataclass(frozen=True)
class KeyConfig:
    key: str
    revoked: bool = False
    models: frozenset[str] | None = None
    endpoints: frozenset[str] | None = None
    ip_allowlist: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None = None
    wallet: float | None = None
    rate_limits: RateLimits | None = None

    def allows_ip(self, ip: str) -> bool:
        if self.ip_allowlist is None:
            return True
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in self.ip_allowlist)


@dataclass(frozen=True)
class GatewayConfig:
    keys: dict[str, KeyConfig] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> GatewayConfig:
        return cls.from_dict(load_data(path), str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], where: str = "config") -> GatewayConfig:
        unknown = set(raw) - {"keys"}
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        keys = raw.get("keys") or {}
        if not isinstance(keys, dict):
            raise ValueError(f"{where}: 'keys' must map each API key to its settings")
        return cls(
            {key: _key(key, value or {}, f"{where}: keys.{key}") for key, value in keys.items()}
        )


def _key(key: str, raw: Any, where: str) -> KeyConfig:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: settings must be an object")
    unknown = set(raw) - _KEY_FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    status = raw.get("status", "active")
    if status not in ("active", "revoked"):
        raise ValueError(f"{where}: status is active or revoked, not {status!r}")
    scopes = raw.get("scopes") or {}
    endpoints = scopes.get("endpoints")
    if endpoints is not None:
        strangers = sorted(set(endpoints) - set(SCOPES))
        if strangers:
            raise ValueError(
                f"{where}: unknown endpoint(s) {', '.join(strangers)}; "
                f"endpoints are among {', '.join(SCOPES)}"
            )
    allowlist = raw.get("ip_allowlist")
    try:
        networks = (
            tuple(ipaddress.ip_network(n, strict=False) for n in allowlist)
            if allowlist is not None
            else None
        )
    except ValueError as exc:
        raise ValueError(f"{where}: ip_allowlist: {exc}") from None
    wallet = raw.get("wallet")
    if wallet is not None and (not isinstance(wallet, (int, float)) or wallet < 0):
        raise ValueError(f"{where}: wallet is a number of credits, at least 0")
    limits = raw.get("rate_limits")
    return KeyConfig(
        key=key,
        revoked=status == "revoked",
        models=frozenset(scopes["models"]) if scopes.get("models") is not None else None,
        endpoints=frozenset(endpoints) if endpoints is not None else None,
        ip_allowlist=networks,
        wallet=float(wallet) if wallet is not None else None,
        rate_limits=RateLimits.from_dict(limits, where) if limits is not None else None,
    )
