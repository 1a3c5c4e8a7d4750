"""The gateway's state in Redis, so several `mockspike serve` processes act as one fake.

Each decision is one server-side Lua script (run by EVALSHA): taking rate-limit tokens,
settling (giving back output tokens and debiting the wallet) and claiming a use of a rule.
Redis runs a script alone, so two processes never both spend the last token or the last use
of a rule. Bucket time is Redis's own clock (`TIME`), so machines need not agree on theirs.
Prompt-cache entries are keys with a TTL; the journal is a stream capped by entries and by
bytes (one Lua step appends and drops the oldest).
Rules are stored as their script-file form (`script/files.py`), with a version
number that every process checks before deciding, and rebuilds its rules from on a change.

Every Redis call has a socket timeout: when Redis is gone a request is answered with the
gateway's retryable 5xx (`StateUnavailable`) instead of waiting, and the connection pool
reconnects by itself when Redis is back.

**Exactly once.** A call that timed out may still run once Redis wakes up (a busy or paused
Redis reads it later), so a blind re-send applies it twice. redis-py's own retries are off;
the four decisions (take, settle, claim, store rules) are idempotent instead: each carries
an operation id, and its script keeps its result under that id for `OP_SECONDS`, so a
re-send (ours, after a timeout only, within `PATIENCE` seconds) returns the first result
without applying anything again. Everything else is sent once (a journal entry, a top-up).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast, overload

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from mockspike import _json
from mockspike._ids import random_id
from mockspike.gateway.keys import RateLimits
from mockspike.script import files as script_files
from mockspike.script.rules import Claimed, Rule, Script
from mockspike.state.journal import HIDDEN_FIELDS, Entry, Journal
from mockspike.state.shared import (
    BUCKETS,
    STARTED,
    Bucket,
    Buckets,
    CachedPrefix,
    StateUnavailable,
    Taken,
    capacities,
)

if TYPE_CHECKING:
    from mockspike.engine.batches import BatchStorage
    from mockspike.engine.files import FileStorage
    from mockspike.engine.threads import ThreadStorage

log = logging.getLogger("mockspike")

#: Seconds a Redis call may take before the request is answered with a 5xx.
TIMEOUT = 1.0
#: Seconds within which a decision that timed out is sent again (same operation id).
PATIENCE = 3.0
#: Seconds a decision's result is kept under its operation id for such a re-send.
OP_SECONDS = 30
#: Seconds a test fixture may hold the shared state alone (`RedisState.turn`).
TURN_SECONDS = 600.0

# Refill the three buckets of KEYS[1] on Redis's clock; take ARGV[4..6] from them when all
# fit, else take nothing and name the one that waits longest. ARGV[1..3]: capacities.
# Before that, when the wallet ARGV[7] of hash KEYS[2] holds less than ARGV[8]: 'broke'.
_REFILL = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local names = {'requests', 'input-tokens', 'output-tokens'}
local updated = tonumber(redis.call('HGET', KEYS[1], 'updated') or now)
local levels = {}
for i = 1, 3 do
  local cap = tonumber(ARGV[i])
  local level = tonumber(redis.call('HGET', KEYS[1], names[i]) or cap)
  levels[i] = math.min(cap, level + math.max(now - updated, 0) * cap / 60)
end
"""
_SAVE = """
redis.call('HSET', KEYS[1], 'updated', tostring(now), names[1], tostring(levels[1]),
  names[2], tostring(levels[2]), names[3], tostring(levels[3]))
redis.call('EXPIRE', KEYS[1], 120)
"""
_TAKE = (
    """
local balance = redis.call('HGET', KEYS[2], ARGV[7])
if balance and tonumber(ARGV[8]) > tonumber(balance) then return {'broke', balance} end
"""
    + _REFILL
    + """
local worst, worst_wait = 0, 0
for i = 1, 3 do
  local cap, need = tonumber(ARGV[i]), tonumber(ARGV[i + 3])
  local wait = 0
  if need > levels[i] then
    if need > cap then wait = 60 else wait = (need - levels[i]) * 60 / cap end
  end
  if wait > worst_wait then worst, worst_wait = i, wait end
end
if worst == 0 then
  for i = 1, 3 do levels[i] = levels[i] - tonumber(ARGV[i + 3]) end
end
"""
    + _SAVE
    + """
return {tostring(levels[1]), tostring(levels[2]), tostring(levels[3]), tostring(now),
  worst, tostring(worst_wait)}
"""
)
# ARGV[4]: output tokens to give back ('' when the call was not limited); ARGV[5]: credits
# to debit from field ARGV[6] of the wallets hash KEYS[2], if the key has a wallet.
_SETTLE = (
    _REFILL
    + """
if ARGV[4] ~= '' then
  levels[3] = math.min(tonumber(ARGV[3]), levels[3] + tonumber(ARGV[4]))
end
if redis.call('HEXISTS', KEYS[2], ARGV[6]) == 1 then
  redis.call('HINCRBYFLOAT', KEYS[2], ARGV[6], -tonumber(ARGV[5]))
end
"""
    + _SAVE
    + """
return {tostring(levels[1]), tostring(levels[2]), tostring(levels[3]), tostring(now)}
"""
)
# One use of rule ARGV[1] (uses counted in hash KEYS[1]) unless ARGV[2] uses ran out:
# the use's position in the rule's sequence, or -1.
_CLAIM = """
local calls = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or 0)
if ARGV[2] ~= '' and calls >= tonumber(ARGV[2]) then return {-1, false} end
local seen = false
if ARGV[3] ~= '' then
  seen = redis.call('HGET', KEYS[2], ARGV[3]) or ARGV[6]
  if ARGV[4] ~= '' and seen ~= ARGV[4] then return {-2, false} end
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[2], ARGV[3], ARGV[5]) end
end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return {calls, seen}
"""

# A rule in scenario ARGV[3] answers only while the scenario, in hash KEYS[2], is in state
# ARGV[4] (when given; ARGV[6] until set; else -2), and moves it to ARGV[5] (when given).
# Returns {the use claimed, the scenario's state it saw}.

# Append rules ARGV[1..] to list KEYS[1] and bump the version KEYS[2].
_STORE = """
for i = 1, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
redis.call('INCR', KEYS[2])
return 1
"""


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


# A script source's rules ARGV[2..] in place of the source's before (the first GET KEYS[5]
# of list KEYS[1]), unless KEYS[4] already holds their digest ARGV[1] (then 0). The other
# rules' uses (hash KEYS[3], by number) move with them; the source's start at 0. Bumps the
# version KEYS[2].
_STORE_SCRIPT = """
if redis.call('GET', KEYS[4]) == ARGV[1] then return 0 end
local before = tonumber(redis.call('GET', KEYS[5]) or 0)
local after = #ARGV - 1
local rest = redis.call('LRANGE', KEYS[1], before, -1)
local calls = redis.call('HGETALL', KEYS[3])
redis.call('DEL', KEYS[1], KEYS[3])
for i = 2, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
for _, spec in ipairs(rest) do redis.call('RPUSH', KEYS[1], spec) end
for i = 1, #calls, 2 do
  local number = tonumber(calls[i])
  if number > before then redis.call('HSET', KEYS[3], number - before + after, calls[i + 1]) end
end
redis.call('SET', KEYS[4], ARGV[1])
redis.call('SET', KEYS[5], after)
redis.call('INCR', KEYS[2])
return 1
"""

# Append entry ARGV[1] to stream KEYS[1] (its size counted in KEYS[2]), then drop the oldest
# while over ARGV[2] entries or ARGV[3] bytes (the newest always stays).
_APPEND = """
local size = string.len(ARGV[1])
redis.call('XADD', KEYS[1], '*', 'entry', ARGV[1], 'n', size)
local total = redis.call('INCRBY', KEYS[2], size)
local count = redis.call('XLEN', KEYS[1])
local max_entries, max_bytes = tonumber(ARGV[2]), tonumber(ARGV[3])
while count > 1 and (count > max_entries or total > max_bytes) do
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  local n = 0
  for i = 1, #oldest[2], 2 do
    if oldest[2][i] == 'n' then n = tonumber(oldest[2][i + 1]) end
  end
  redis.call('XDEL', KEYS[1], oldest[1])
  total = redis.call('DECRBY', KEYS[2], n)
  count = count - 1
end
return count
"""

P = ParamSpec("P")
T = TypeVar("T")


def _guarded(method: Callable[P, T]) -> Callable[P, T]:
    """Redis errors become the gateway's retryable 5xx."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except redis.RedisError as exc:
            raise StateUnavailable(f"{type(exc).__name__}: {exc}") from None

    return call


class RedisState:
    """The `State` of every process pointed at one Redis database."""

    shared = True
    blocking = True

    def __init__(
        self, url: str, wallets: Mapping[str, float], *, prefix: str = "mockspike:"
    ) -> None:
        self.url = url
        self.client = _connect(url, decode=True)
        self._raw: redis.Redis | None = None
        self._keys = _Keys(prefix)
        try:
            self.client.ping()
            _check_eviction(self.client, url)
            for key, credits in wallets.items():
                self.client.hsetnx(self._keys.wallets, key, repr(credits))
        except redis.RedisError as exc:
            self.client.close()
            raise ConnectionError(f"cannot reach Redis at {url}: {exc}") from None
        self._take = self._decision(_TAKE)
        self._settle = self._decision(_SETTLE)
        self._claim = self._decision(_CLAIM)
        self._store = self._decision(_STORE)
        self._store_script = self._decision(_STORE_SCRIPT)
        self._version: str | None = None
        self.journal: Journal = RedisJournal(self.client, self._keys.journal, Journal())

    def _decision(self, script: str) -> Callable[..., Any]:
        """Run `script` (made idempotent) once, whatever the re-sends: after a timeout it
        is sent again with the same operation id until `PATIENCE` runs out (then the
        timeout stands: a 5xx). A refused connection is not retried (nothing was sent)."""
        registered = self.client.register_script(_once(script))

        def run(*, keys: list[str], args: list[Any]) -> Any:
            operation = self._keys.op(random_id("", 16))
            deadline = time.monotonic() + PATIENCE
            while True:
                try:
                    return registered(keys=[*keys, operation], args=args)
                except redis.TimeoutError:
                    if time.monotonic() >= deadline:
                        raise

        return run

    # -- rate limits and wallets --------------------------------------------------------

    @_guarded
    def take(
        self,
        key: str,
        limits: RateLimits,
        needs: Mapping[str, float],
        now: float,
        estimate: float = 0.0,
    ) -> Taken:
        amounts = [needs.get(name, 0) for name in BUCKETS]
        result = self._take(
            keys=[self._keys.buckets(key), self._keys.wallets],
            args=[*capacities(limits), *amounts, key, repr(estimate)],
        )
        if result[0] == "broke":
            return Taken({}, broke=float(result[1]))
        buckets = _buckets(limits, result)
        worst = int(result[4])
        if worst == 0:
            return Taken(buckets)
        return Taken(buckets, BUCKETS[worst - 1], float(result[5]))

    @_guarded
    def settle(
        self, key: str, limits: RateLimits, give_back: float | None, credits: float, now: float
    ) -> Buckets:
        result = self._settle(
            keys=[self._keys.buckets(key), self._keys.wallets],
            args=[*capacities(limits), "" if give_back is None else give_back, credits, key],
        )
        return _buckets(limits, result)

    @_guarded
    def reset_buckets(self) -> None:
        for name in self.client.scan_iter(match=self._keys.buckets("*"), count=500):
            self.client.delete(name)

    @_guarded
    def buckets(self, now: float, limits_of: Callable[[str], RateLimits]) -> dict[str, Buckets]:
        found: dict[str, Buckets] = {}
        prefix = self._keys.buckets("")
        for name in self.client.scan_iter(match=self._keys.buckets("*"), count=500):
            fields = cast(dict[str, str], self.client.hgetall(name))
            if "updated" not in fields:
                continue
            key = name.removeprefix(prefix)
            updated = float(fields["updated"])
            found[key] = {}
            for bucket, capacity in zip(BUCKETS, capacities(limits_of(key)), strict=True):
                found[key][bucket] = Bucket(capacity, updated, float(fields[bucket]))
                found[key][bucket].refill(now)
        return found

    @_guarded
    def wallet(self, key: str) -> float | None:
        value = self.client.hget(self._keys.wallets, key)
        return None if value is None else float(value)

    @_guarded
    def wallets(self) -> dict[str, float]:
        found = cast(dict[str, str], self.client.hgetall(self._keys.wallets))
        return {k: float(v) for k, v in found.items()}

    @_guarded
    def credit(self, key: str, credits: float) -> float:
        return float(self.client.hincrbyfloat(self._keys.wallets, key, credits))

    @_guarded
    def set_wallet(self, key: str, credits: float) -> None:
        self.client.hset(self._keys.wallets, key, repr(credits))

    # -- prompt cache ---------------------------------------------------------------------

    @_guarded
    def cache_get(self, entry: tuple[str, str, str], ttls: Mapping[str, int], now: float) -> bool:
        name = self._keys.cache(entry)
        value = cast(str | None, self.client.get(name))
        if value is None:
            return False
        ttl = value.split(" ")[1]
        self.client.expire(name, ttls[ttl])
        return True

    @_guarded
    def cache_put(self, entry: tuple[str, str, str], prefix: CachedPrefix) -> None:
        seconds = max(1, round(prefix.expires - time.time()))
        self.client.set(self._keys.cache(entry), f"{prefix.tokens} {prefix.ttl}", ex=seconds)

    @_guarded
    def cache_entries(self, now: float) -> list[tuple[tuple[str, str, str], CachedPrefix]]:
        found: list[tuple[tuple[str, str, str], CachedPrefix]] = []
        for name in self.client.scan_iter(match=self._keys.cache(("*", "*", "*")), count=500):
            pipe = self.client.pipeline()
            pipe.get(name)
            pipe.pttl(name)
            value, left = pipe.execute()
            if value is None or left < 0:
                continue
            tokens, ttl = value.split(" ")
            found.append(
                (self._keys.cache_entry(name), CachedPrefix(int(tokens), ttl, now + left / 1000))
            )
        return found

    @_guarded
    def cache_clear(self) -> None:
        for name in self.client.scan_iter(match=self._keys.cache(("*", "*", "*")), count=500):
            self.client.delete(name)

    # -- scripted rules -------------------------------------------------------------------

    @_guarded
    def claim(self, rule: Rule) -> Claimed | None:
        times = "" if rule.times is None else rule.times
        scenario = [rule.scenario or "", rule.state or "", rule.next_state or "", STARTED]
        position, seen = self._claim(
            keys=[self._keys.calls, self._keys.scenarios], args=[rule.number, times, *scenario]
        )
        if int(position) == -1:  # used up
            rule.call_count = rule.times or rule.call_count
        if int(position) < 0:  # used up, or its scenario is in another state
            return None
        rule.call_count = int(position) + 1
        return int(position), seen

    @_guarded
    def scenarios(self) -> dict[str, str]:
        return cast(dict[str, str], self.client.hgetall(self._keys.scenarios))

    @_guarded
    def set_scenario(self, name: str, state: str) -> None:
        self.client.hset(self._keys.scenarios, name, state)

    @_guarded
    def reset_scenarios(self) -> None:
        self.client.delete(self._keys.scenarios)

    @_guarded
    def sync(self, script: Script) -> None:
        """One round trip: the rules' version and use counts; the rules themselves only
        when another process changed them."""
        pipe = self.client.pipeline(transaction=True)
        pipe.get(self._keys.version)
        pipe.hgetall(self._keys.calls)
        version, calls = pipe.execute()
        if version != self._version:
            specs = [_json.loads(s) for s in self.client.lrange(self._keys.rules, 0, -1)]
            rules = script_files.build_rules({"rules": specs}, _shared_rule) if specs else []
            for number, rule in enumerate(rules, 1):
                rule.number = number
            script.replace(rules)
            self._version = version
        for rule in script.rules:
            rule.call_count = int(calls.get(str(rule.number), 0))

    @_guarded
    def store_rules(self, specs: list[dict[str, Any]]) -> None:
        self._store(
            keys=[self._keys.rules, self._keys.version],
            args=[_json.dumps(s).decode() for s in specs],
        )

    @_guarded
    def store_script(self, specs: list[dict[str, Any]], digest: str) -> bool:
        keys = self._keys
        stored = self._store_script(
            keys=[keys.rules, keys.version, keys.calls, keys.script_digest, keys.script_rules],
            args=[digest, *[_json.dumps(s).decode() for s in specs]],
        )
        return bool(stored)

    @_guarded
    def clear(self) -> None:
        pipe = self.client.pipeline(transaction=True)
        keys = self._keys
        pipe.delete(keys.rules, keys.calls, keys.journal, keys.journal + ":bytes", keys.scenarios)
        pipe.delete(keys.script_digest, keys.script_rules)
        pipe.incr(self._keys.version)
        pipe.execute()

    def close(self) -> None:
        self.client.close()
        if self._raw is not None:
            self._raw.close()

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """Hold this state alone among the test fixtures sharing it (pytest-xdist workers,
        other runs on the same Redis), so tests never see each other's rules or journal:
        a lease of `TURN_SECONDS`, waited for as long. `mockspike serve` processes do not
        take turns: they are the shared fake."""
        lock = self.client.lock(
            self._keys.prefix + "fixture:turn",
            timeout=TURN_SECONDS,
            blocking_timeout=TURN_SECONDS,
        )
        if not _guarded(lock.acquire)():
            raise StateUnavailable(f"another test held the shared state over {TURN_SECONDS:g} s")
        try:
            yield
        finally:
            with contextlib.suppress(redis.RedisError):  # expired, or Redis gone
                lock.release()

    def use_journal(self, journal: Journal) -> Journal:
        self.journal = RedisJournal(self.client, self._keys.journal, journal)
        return self.journal

    # -- batches and files ----------------------------------------------------------------

    def batch_store(self) -> BatchStorage:
        from mockspike.state.redis_stores import RedisBatchStore

        return RedisBatchStore(self.client, self._keys)

    def file_store(self, directory: Path | None) -> FileStorage:
        if directory is not None:
            raise ValueError(
                "files_dir is for the in-process state: with a Redis state, files are kept "
                "in Redis so that every process sees them"
            )
        from mockspike.state.redis_stores import RedisFileStore

        if self._raw is None:
            self._raw = _connect(self.url, decode=False)
        return RedisFileStore(self.client, self._raw, self._keys)

    def thread_store(self) -> ThreadStorage:
        from mockspike.state.redis_stores import RedisThreadStore

        return RedisThreadStore(self.client, self._keys, self._decision)


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


def _shared_rule(**given: Any) -> Rule:
    return Rule.of(given)


def _buckets(limits: RateLimits, result: list[Any]) -> Buckets:
    now = float(result[3])
    return {
        name: Bucket(capacity, now, float(level))
        for name, capacity, level in zip(BUCKETS, capacities(limits), result[:3], strict=True)
    }


@dataclass(frozen=True)
class _Keys:
    prefix: str

    @property
    def wallets(self) -> str:
        return self.prefix + "wallets"

    @property
    def rules(self) -> str:
        return self.prefix + "rules"

    @property
    def version(self) -> str:
        return self.prefix + "rules:version"

    @property
    def calls(self) -> str:
        return self.prefix + "rules:calls"

    @property
    def journal(self) -> str:
        return self.prefix + "journal"

    def op(self, operation: str) -> str:
        return f"{self.prefix}op:{operation}"

    @property
    def scenarios(self) -> str:
        return self.prefix + "scenarios"

    @property
    def script_digest(self) -> str:
        return self.prefix + "rules:script:digest"

    @property
    def script_rules(self) -> str:
        return self.prefix + "rules:script:count"

    def buckets(self, key: str) -> str:
        return f"{self.prefix}buckets:{key}"

    def cache(self, entry: tuple[str, str, str]) -> str:
        return f"{self.prefix}cache:" + "|".join(entry)

    def cache_entry(self, name: str) -> tuple[str, str, str]:
        scope, model, digest = name.removeprefix(self.prefix + "cache:").rsplit("|", 2)
        return scope, model, digest

    @property
    def batches(self) -> str:
        return self.prefix + "batches"

    @property
    def batch_settings(self) -> str:
        return self.prefix + "batches:settings"

    def batch(self, batch_id: str) -> str:
        return f"{self.prefix}batch:{batch_id}"

    @property
    def files(self) -> str:
        return self.prefix + "files"

    @property
    def file_order(self) -> str:
        return self.prefix + "files:order"

    def file(self, file_id: str) -> str:
        return f"{self.prefix}file:{file_id}"

    def thread(self, message_id: str) -> str:
        return f"{self.prefix}thread:{message_id}"

    def thread_next(self, message_id: str) -> str:
        return f"{self.prefix}thread:{message_id}:next"

    @property
    def threads(self) -> str:
        return self.prefix + "threads"


@dataclass
class StoredEntry(Entry):
    """A journal entry read back from Redis: its JSON form, as it was written."""

    stored: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return self.stored


def _entry(data: dict[str, Any]) -> StoredEntry:
    """The entry back from its JSON form (`Entry.to_json`: the Python names)."""
    kept = {k: v for k, v in data.items() if k in _STORED_FIELDS}
    return StoredEntry(**kept, _body=data.get("body"), stored=data)


_STORED_FIELDS = frozenset(f.name for f in fields(Entry)) - HIDDEN_FIELDS - {"response", "reply"}
"""The fields an entry's JSON form carries as they are (the response and reply are only
described there)."""


class RedisJournal(Journal):
    """The journal as a capped Redis stream: every process appends, any one reads all."""

    def __init__(self, client: redis.Redis, stream: str, like: Journal) -> None:
        super().__init__(
            max_entries=like.max_entries,
            max_bytes=like.max_bytes,
            summary_bytes=like.summary_bytes,
            redaction=like.redaction,
        )
        self._client = client
        self._stream = stream
        self._append = client.register_script(_APPEND)

    def append(self, entry: Entry, raw: bytes = b"") -> None:
        """Write the entry, redacted and summarised as in memory (this process keeps its
        own bounded copy too), within `max_entries` and `max_bytes` of entries' JSON; sent
        once (never re-sent: see the module's doc). A lost or full Redis loses the entry,
        never the answer, and says so in the log."""
        super().append(entry, raw)
        try:
            self._append(
                keys=[self._stream, self._stream + ":bytes"],
                args=[_json.dumps(entry.to_json()).decode(), self.max_entries, self.max_bytes],
            )
        except redis.RedisError as exc:
            full = "maxmemory" in str(exc) or isinstance(exc, redis.exceptions.OutOfMemoryError)
            log.log(
                logging.ERROR if full else logging.WARNING,
                "mockspike: journal entry not written to Redis: %s%s",
                exc,
                " (Redis is at maxmemory: raise it, or keep a smaller journal)" if full else "",
            )

    @_guarded
    def _all(self) -> list[Entry]:
        found = cast(list[tuple[str, dict[str, str]]], self._client.xrange(self._stream))
        return [_entry(_json.loads(fields["entry"])) for _, fields in found]

    @_guarded
    def clear(self) -> None:
        super().clear()
        self._client.delete(self._stream, self._stream + ":bytes")

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...
    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        return self._all()[index]

    @_guarded
    def __len__(self) -> int:
        return int(self._client.xlen(self._stream))

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._all())

    def __bool__(self) -> bool:
        return len(self) > 0

    @property
    def last(self) -> Entry:
        newest = cast(
            list[tuple[str, dict[str, str]]], self._client.xrevrange(self._stream, count=1)
        )
        if not newest:
            raise IndexError("the fake has received no request yet")
        return _entry(_json.loads(newest[0][1]["entry"]))
