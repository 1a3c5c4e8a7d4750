"""What the Redis stores share: the connection, its timeouts, and exactly-once decisions.

Each decision is one server-side Lua script (run by EVALSHA): taking rate-limit tokens,
settling (giving back output tokens and debiting the wallet), claiming a use of a rule or
a thread's reply, storing rules. Redis runs a script alone, so two processes never both
spend the last token or the last use of a rule.

Every Redis call has a socket timeout: when Redis is gone a request is answered with the
gateway's retryable 5xx (`StateUnavailable`) instead of waiting, and the connection pool
reconnects by itself when Redis is back.

**Exactly once.** A call that timed out may still run once Redis wakes up (a busy or paused
Redis reads it later), so a blind re-send applies it twice. redis-py's own retries are off;
the decisions are idempotent instead (`Connection.decision`): each carries an operation
id, and its script keeps its result under that id for `OP_SECONDS`, so a re-send (ours,
after a timeout only, within `PATIENCE` seconds) returns the first result without applying
anything again. Everything else is sent once (a journal entry, a top-up).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar, cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from mockspike._ids import random_id
from mockspike.state.errors import StateUnavailable

#: Seconds a Redis call may take before the request is answered with a 5xx.
TIMEOUT = 1.0
#: Seconds within which a decision that timed out is sent again (same operation id).
PATIENCE = 3.0
#: Seconds a decision's result is kept under its operation id for such a re-send.
OP_SECONDS = 30
#: Seconds a test fixture may hold the shared state alone (`Connection.turn`).
TURN_SECONDS = 600.0


def _once(script: str) -> str:
    """`script` made idempotent: its last KEYS entry names the operation; a second run
    with the same operation returns the first run's result and changes nothing."""
    return f"""
local op = KEYS[#KEYS]
local done = redis.call('GET', op)
if done then return cjson.decode(done) end
local result = (function()
{script}
end)()
redis.call('SET', op, cjson.encode(result), 'EX', {OP_SECONDS})
return result
"""


P = ParamSpec("P")
T = TypeVar("T")


def guarded(method: Callable[P, T]) -> Callable[P, T]:
    """Redis errors become the gateway's retryable 5xx."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except redis.RedisError as exc:
            raise StateUnavailable(f"{type(exc).__name__}: {exc}") from None

    return call


Decision = Callable[..., Any]
"""A decision's script: called with `keys=` and `args=`, applied once however often sent."""


class Connection:
    """One Redis database and its key prefix, as every Redis store of a set uses it."""

    def __init__(self, url: str, *, prefix: str = "mockspike:") -> None:
        self.url = url
        self.prefix = prefix
        self.client = _connect(url, decode=True)
        self._raw: redis.Redis | None = None
        try:
            self.client.ping()
            _check_eviction(self.client, url)
        except redis.RedisError as exc:
            self.client.close()
            raise ConnectionError(f"cannot reach Redis at {url}: {exc}") from None

    @property
    def raw(self) -> redis.Redis:
        """A client that does not decode (file bytes), opened on first use."""
        if self._raw is None:
            self._raw = _connect(self.url, decode=False)
        return self._raw

    def decision(self, script: str) -> Decision:
        """Run `script` (made idempotent) once, whatever the re-sends: after a timeout it
        is sent again with the same operation id until `PATIENCE` runs out (then the
        timeout stands: a 5xx). A refused connection is not retried (nothing was sent)."""
        registered = self.client.register_script(_once(script))

        def run(*, keys: list[str], args: list[Any]) -> Any:
            operation = f"{self.prefix}op:{random_id('', 16)}"
            deadline = time.monotonic() + PATIENCE
            while True:
                try:
                    return registered(keys=[*keys, operation], args=args)
                except redis.TimeoutError:
                    if time.monotonic() >= deadline:
                        raise

        return run

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """Hold this state alone among the test fixtures sharing it (pytest-xdist workers,
        other runs on the same Redis), so tests never see each other's rules or journal:
        a lease of `TURN_SECONDS`, waited for as long. `mockspike serve` processes do not
        take turns: they are the shared fake."""
        lock = self.client.lock(
            self.prefix + "fixture:turn",
            timeout=TURN_SECONDS,
            blocking_timeout=TURN_SECONDS,
        )
        if not guarded(lock.acquire)():
            raise StateUnavailable(f"another test held the shared state over {TURN_SECONDS:g} s")
        try:
            yield
        finally:
            with contextlib.suppress(redis.RedisError):  # expired, or Redis gone
                lock.release()

    def close(self) -> None:
        self.client.close()
        if self._raw is not None:
            self._raw.close()


def _check_eviction(client: redis.Redis, url: str) -> None:
    """Refuse a Redis that may evict any key when full (`allkeys-*`): the rules, wallets
    and batches would vanish under memory pressure. `noeviction` (Redis's default) or a
    `volatile-*` policy (then only keys with a TTL go: rate-limit buckets, cache entries,
    operation ids) keep them. A Redis whose CONFIG is disabled (a managed one) is trusted."""
    try:
        found = cast(dict[str, str], client.config_get("maxmemory-policy"))
    except redis.ResponseError:
        return
    policy = found.get("maxmemory-policy", "")
    if policy.startswith("allkeys-"):
        client.close()
        raise ConnectionError(
            f"Redis at {url} may evict any key when full (maxmemory-policy {policy}): the "
            "shared rules, wallets and batches would vanish under memory pressure. Use "
            "noeviction (the default) or a volatile-* policy: redis-cli CONFIG SET "
            "maxmemory-policy noeviction"
        )


def _connect(url: str, *, decode: bool) -> redis.Redis:
    """A client whose every call gives up after `TIMEOUT`, never re-sent by redis-py (a
    re-sent call that had arrived runs twice; see the module's doc)."""
    return redis.Redis.from_url(
        url,
        decode_responses=decode,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=5,
    )
