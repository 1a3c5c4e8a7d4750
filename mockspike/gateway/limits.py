"""Who is calling, and may they: keys, scopes, IP allowlists, wallets and rate limits.

Without a configuration any non-empty key is accepted, with the profile's default rate
limits, so the `anthropic-ratelimit-*` headers are always there as the real API sends them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from mockspike.contract.catalog import Model
from mockspike.gateway.keys import GatewayConfig, KeyConfig, RateLimits
from mockspike.model.clock import Clock, rfc3339
from mockspike.model.errors import ApiError
from mockspike.model.wire import WireRequest
from mockspike.state.buckets import Buckets, BucketStore, Capacities, MemoryBuckets
from mockspike.state.errors import StateUnavailable
from mockspike.state.wallets import MemoryWallets, WalletStore

log = logging.getLogger("mockspike")
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


@dataclass
class Admission:
    """A request let through: settle it once its real cost is known."""

    key: str
    output_reserved: int
    limited: bool = True
    """False: outside the rate limits (settling leaves the buckets alone)."""


class Gateway:
    """Who may call and what is left: the arithmetic is here, the buckets and wallets in
    their stores (a buckets store spends from its wallets store: pass both or neither)."""

    def __init__(
        self,
        config: GatewayConfig | None,
        defaults: RateLimits,
        clock: Clock,
        buckets: BucketStore | None = None,
        wallets: WalletStore | None = None,
    ) -> None:
        self.config = config
        self.defaults = defaults
        self.clock = clock
        if buckets is None or wallets is None:
            kept = MemoryWallets(initial_wallets(config))
            buckets, wallets = MemoryBuckets(kept), kept
        self.bucket_store: BucketStore = buckets
        self.wallet_store: WalletStore = wallets
        self._default_capacities = defaults.capacities
        self._capacities = {
            key: settings.rate_limits.capacities
            for key, settings in (config.keys.items() if config else ())
            if settings.rate_limits is not None
        }

    @property
    def wallets(self) -> dict[str, float]:
        return self.wallet_store.all()

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

    def admit(
        self,
        key: str,
        estimate: float,
        input_tokens: int,
        max_tokens: int,
        *,
        limited: bool = True,
    ) -> Admission:
        """Check the wallet (402) and, when `limited`, the rate limits (429), then take
        from the buckets. A Message Batch's requests are not `limited`: the API keeps
        batches out of the Messages rate limits."""
        if not limited:
            balance = self.wallet_store.get(key)
            if balance is not None and estimate > balance:
                raise _broke(estimate, balance)
            return Admission(key, 0, limited=False)
        now = self.clock.now()
        needs = {"requests": 1, "input-tokens": input_tokens, "output-tokens": max_tokens}
        taken = self.bucket_store.take(key, self._capacities_of(key), needs, now, estimate)
        if taken.broke is not None:
            raise _broke(estimate, taken.broke)
        worst = taken.worst
        if worst is not None:
            buckets = taken.buckets
            unit = {
                "requests": "requests",
                "input-tokens": "input tokens",
                "output-tokens": "output tokens",
            }[worst]
            headers = self._headers(buckets, now)
            headers["retry-after"] = str(max(1, math.ceil(taken.wait)))
            raise ApiError(
                429,
                f"This request would exceed the rate limit for your organization of "
                f"{buckets[worst].capacity:,} {unit} per minute. For details, refer to: "
                f"{_RATE_LIMIT_DOCS}. You can see the response headers for current usage.",
                headers=headers,
            )
        return Admission(key, max_tokens)

    def settle(self, admission: Admission, output_tokens: int, credits: float) -> dict[str, str]:
        """Give back unused output reservation, debit the wallet; the rate-limit headers.

        Settling never refuses: the answer is decided by now, and a settle that timed out
        may still be applied (once) by a slow shared state, so answering 503 here would
        bill a refusal. The answer then goes out without rate-limit headers (logged)."""
        now = self.clock.now()
        give_back = admission.output_reserved - output_tokens if admission.limited else None
        try:
            buckets = self.bucket_store.settle(
                admission.key, self._capacities_of(admission.key), give_back, credits, now
            )
        except StateUnavailable as exc:
            log.warning(
                "mockspike: settling a request of key %s (%s credits) not confirmed by the "
                "shared state (%s); it is applied once if it arrived",
                admission.key,
                credits,
                exc.detail,
            )
            return {}
        return self._headers(buckets, now)

    def top_up(self, key: str, credits: float) -> float:
        if credits <= 0:
            raise ValueError("top up by a positive number of credits")
        return self.wallet_store.credit(key, credits)

    def set_balance(self, key: str, credits: float) -> None:
        self.wallet_store.set(key, credits)

    def reset_limits(self) -> None:
        self.bucket_store.reset()

    def buckets(self) -> list[dict[str, Any]]:
        """Every key's rate-limit buckets now: key, bucket, capacity, remaining."""
        now = self.clock.now()
        rows: list[dict[str, Any]] = []
        for key, buckets in self.bucket_store.all(now, self._capacities_of).items():
            for name, bucket in buckets.items():
                remaining = max(0, int(bucket.level))
                rows.append(
                    {
                        "key": key,
                        "bucket": name,
                        "capacity": bucket.capacity,
                        "remaining": remaining,
                    }
                )
        return rows

    def _capacities_of(self, key: str) -> Capacities:
        """The key's own rate limits, else the profile's (computed once, not a request)."""
        return self._capacities.get(key, self._default_capacities)

    @staticmethod
    def _headers(buckets: Buckets, now: float) -> dict[str, str]:
        """The twelve `anthropic-ratelimit-*` headers, in the API's order: requests, input
        and output tokens, then tokens as the API reports them (the input and output limits
        summed, fully refilled at the later)."""
        requests, inputs, outputs = (
            buckets["requests"],
            buckets["input-tokens"],
            buckets["output-tokens"],
        )
        input_left, output_left = max(0, int(inputs.level)), max(0, int(outputs.level))
        input_reset, output_reset = inputs.reset_at(now), outputs.reset_at(now)
        return {
            _REQUESTS_LIMIT: requests.capacity_text,
            _REQUESTS_REMAINING: str(max(0, int(requests.level))),
            _REQUESTS_RESET: rfc3339(requests.reset_at(now)),
            _INPUT_LIMIT: inputs.capacity_text,
            _INPUT_REMAINING: str(input_left),
            _INPUT_RESET: rfc3339(input_reset),
            _OUTPUT_LIMIT: outputs.capacity_text,
            _OUTPUT_REMAINING: str(output_left),
            _OUTPUT_RESET: rfc3339(output_reset),
            _TOKENS_LIMIT: str(int(inputs.capacity) + int(outputs.capacity)),
            _TOKENS_REMAINING: str(input_left + output_left),
            _TOKENS_RESET: rfc3339(max(input_reset, output_reset)),
        }


def _broke(estimate: float, balance: float) -> ApiError:
    return ApiError(
        402,
        f"Wallet exhausted: this request needs an estimated {estimate:.6f} credits "
        f"and the wallet holds {max(balance, 0):.6f}.",
    )


def initial_wallets(config: GatewayConfig | None) -> dict[str, float]:
    """The wallets a configuration starts with, by key."""
    keys = config.keys.values() if config else []
    return {k.key: k.wallet for k in keys if k.wallet is not None}


_HEADER_NAMES = {
    name: tuple(f"anthropic-ratelimit-{name}-{part}" for part in ("limit", "remaining", "reset"))
    for name in ("requests", "tokens", "input-tokens", "output-tokens")
}
_REQUESTS_LIMIT, _REQUESTS_REMAINING, _REQUESTS_RESET = _HEADER_NAMES["requests"]
_INPUT_LIMIT, _INPUT_REMAINING, _INPUT_RESET = _HEADER_NAMES["input-tokens"]
_OUTPUT_LIMIT, _OUTPUT_REMAINING, _OUTPUT_RESET = _HEADER_NAMES["output-tokens"]
_TOKENS_LIMIT, _TOKENS_REMAINING, _TOKENS_RESET = _HEADER_NAMES["tokens"]
