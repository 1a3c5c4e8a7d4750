"""Who is calling, and may they: keys, scopes, IP allowlists, wallets and rate limits.

Without a configuration any non-empty key is accepted, with the profile's default rate
limits, so the `anthropic-ratelimit-*` headers are always there as the real API sends them.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from ..contract.catalog import Model
from ..contract.errors import ApiError
from ..core.wire import WireRequest
from .clock import Clock
from .keys import GatewayConfig, KeyConfig, RateLimits

_RATE_LIMIT_DOCS = "https://docs.claude.com/en/api/rate-limits"


def api_key(request: WireRequest) -> str:
    """The caller's key from `x-api-key` or `Authorization: Bearer`; missing is a 401."""
    key = request.header("x-api-key")
    if not key:
        auth = request.header("authorization") or ""
        scheme, _, token = auth.partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else ""
    if not key:
        raise ApiError(401, "x-api-key header is required")
    return key


class _Bucket:
    """A token bucket refilled continuously: `capacity` a minute."""

    def __init__(self, capacity: int, now: float) -> None:
        self.capacity = capacity
        self.capacity_text = str(capacity)
        self.level = float(capacity)
        self.updated = now
        self._reset_second = -1
        self._reset_text = ""

    def refill(self, now: float) -> None:
        elapsed = max(now - self.updated, 0.0)
        self.level = min(self.capacity, self.level + elapsed * self.capacity / 60)
        self.updated = now

    def wait(self, amount: float) -> float:
        """Seconds until `amount` fits (a minute at most: more can never fit)."""
        if amount <= self.level:
            return 0.0
        if amount > self.capacity:
            return 60.0
        return (amount - self.level) * 60 / self.capacity

    def reset_at(self, now: float) -> float:
        return now + (self.capacity - self.level) * 60 / self.capacity

    def remaining_text(self) -> str:
        return str(max(0, int(self.level)))

    def reset_text(self, now: float) -> str:
        """`reset_at` in RFC 3339, formatted once a second (it changes no faster)."""
        second = math.ceil(self.reset_at(now))
        if second != self._reset_second:
            self._reset_second, self._reset_text = second, _rfc3339(second)
        return self._reset_text


@dataclass
class Admission:
    """A request let through: settle it once its real cost is known."""

    key: str
    output_reserved: int


class Gateway:
    """The gateway's state: wallets, rate-limit buckets. Thread-safe."""

    def __init__(self, config: GatewayConfig | None, defaults: RateLimits, clock: Clock) -> None:
        self.config = config
        self.defaults = defaults
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, dict[str, _Bucket]] = {}
        self.wallets: dict[str, float] = {
            k.key: k.wallet
            for k in (config.keys.values() if config else [])
            if k.wallet is not None
        }

    # -- who -------------------------------------------------------------------------

    def authenticate(self, request: WireRequest, endpoint: str) -> str:
        """The key, if it exists, is active, comes from an allowed IP and may use `endpoint`."""
        key = api_key(request)
        settings = self._settings(key)
        if settings is None:
            return key
        if settings.revoked:
            raise ApiError(401, "invalid x-api-key")
        if not settings.allows_ip(request.client_ip):
            raise ApiError(
                403,
                f"Requests from IP address {request.client_ip} are not allowed for this API key.",
            )
        if settings.endpoints is not None and endpoint not in settings.endpoints:
            raise ApiError(403, f"This API key is not allowed to use the {endpoint} endpoint.")
        return key

    def _settings(self, key: str) -> KeyConfig | None:
        if self.config is None:
            return None
        settings = self.config.keys.get(key)
        if settings is None:
            raise ApiError(401, "invalid x-api-key")
        return settings

    def check_model(self, key: str, requested: str, model: Model) -> None:
        settings = self._settings(key)
        if settings is None or settings.models is None:
            return
        names = {requested, model.id, *model.aliases}
        if not names & settings.models:
            raise ApiError(403, f"This API key is not allowed to use model {requested}.")

    # -- may they ----------------------------------------------------------------------

    def admit(self, key: str, estimate: float, input_tokens: int, max_tokens: int) -> Admission:
        """Check the wallet (402) and the rate limits (429), then take from the buckets."""
        with self._lock:
            balance = self.wallets.get(key)
            if balance is not None and estimate > balance:
                raise ApiError(
                    402,
                    f"Wallet exhausted: this request needs an estimated {estimate:.6f} credits "
                    f"and the wallet holds {max(balance, 0):.6f}.",
                )
            now = self.clock.now()
            buckets = self._buckets_of(key, now)
            needs = (("requests", 1), ("input-tokens", input_tokens), ("output-tokens", max_tokens))
            worst, longest = "", 0.0
            for name, amount in needs:
                wait = buckets[name].wait(amount)
                if wait > longest:
                    worst, longest = name, wait
            if longest > 0:
                unit = {
                    "requests": "requests",
                    "input-tokens": "input tokens",
                    "output-tokens": "output tokens",
                }[worst]
                headers = self._headers(buckets, now)
                headers["retry-after"] = str(max(1, math.ceil(longest)))
                raise ApiError(
                    429,
                    f"This request would exceed the rate limit for your organization of "
                    f"{buckets[worst].capacity:,} {unit} per minute. For details, refer to: "
                    f"{_RATE_LIMIT_DOCS}. You can see the response headers for current usage.",
                    headers=headers,
                )
            for name, amount in needs:
                buckets[name].level -= amount
            return Admission(key, max_tokens)

    def settle(self, admission: Admission, output_tokens: int, credits: float) -> dict[str, str]:
        """Give back unused output reservation, debit the wallet; the rate-limit headers."""
        with self._lock:
            now = self.clock.now()
            buckets = self._buckets_of(admission.key, now)
            output = buckets["output-tokens"]
            output.level = min(
                output.capacity, output.level + admission.output_reserved - output_tokens
            )
            if admission.key in self.wallets:
                self.wallets[admission.key] -= credits
            return self._headers(buckets, now)

    def top_up(self, key: str, credits: float) -> float:
        if credits <= 0:
            raise ValueError("top up by a positive number of credits")
        with self._lock:
            self.wallets[key] = self.wallets.get(key, 0.0) + credits
            return self.wallets[key]

    def set_balance(self, key: str, credits: float) -> None:
        with self._lock:
            self.wallets[key] = credits

    def reset_limits(self) -> None:
        with self._lock:
            self._buckets.clear()

    def _limits(self, key: str) -> RateLimits:
        settings = self.config.keys.get(key) if self.config else None
        return settings.rate_limits if settings and settings.rate_limits else self.defaults

    def _buckets_of(self, key: str, now: float) -> dict[str, _Bucket]:
        if key not in self._buckets:
            limits = self._limits(key)
            self._buckets[key] = {
                "requests": _Bucket(limits.requests_per_minute, now),
                "input-tokens": _Bucket(limits.input_tokens_per_minute, now),
                "output-tokens": _Bucket(limits.output_tokens_per_minute, now),
            }
        buckets = self._buckets[key]
        for bucket in buckets.values():
            bucket.refill(now)
        return buckets

    @staticmethod
    def _headers(buckets: dict[str, _Bucket], now: float) -> dict[str, str]:
        """The twelve `anthropic-ratelimit-*` headers: each bucket's limit, remaining and
        reset, then `tokens` for the tighter of the two token buckets."""
        requests, inputs, outputs = (
            buckets["requests"],
            buckets["input-tokens"],
            buckets["output-tokens"],
        )
        tightest = (
            inputs
            if inputs.level / inputs.capacity <= outputs.level / outputs.capacity
            else outputs
        )
        headers: dict[str, str] = {}
        for names, bucket in (
            (_REQUESTS, requests),
            (_INPUT, inputs),
            (_OUTPUT, outputs),
            (_TOKENS, tightest),
        ):
            limit, remaining, reset = names
            headers[limit] = bucket.capacity_text
            headers[remaining] = bucket.remaining_text()
            headers[reset] = bucket.reset_text(now)
        return headers


def _names(bucket: str) -> tuple[str, str, str]:
    stem = f"anthropic-ratelimit-{bucket}-"
    return stem + "limit", stem + "remaining", stem + "reset"


_REQUESTS, _INPUT, _OUTPUT, _TOKENS = (
    _names(b) for b in ("requests", "input-tokens", "output-tokens", "tokens")
)


def rfc3339(timestamp: float) -> str:
    return _rfc3339(math.ceil(timestamp))


@functools.lru_cache(maxsize=1024)
def _rfc3339(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
