"""The buckets store in Redis: a hash a key (the three levels and when they were last
refilled), expiring two minutes after its last use (a full bucket is the default).

Taking and settling are decisions (`Connection.decision`): one Lua script each, over the
key's buckets and the wallets hash, on Redis's own clock (`TIME`), so machines need not
agree on theirs and two processes never both spend the last token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from mockspike.state.buckets import BUCKETS, Bucket, Buckets, Capacities, Taken
from mockspike.state.redis.client import Connection, guarded
from mockspike.state.redis.wallets import RedisWallets

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


class RedisBuckets:
    """`BucketStore` in Redis, spending from `wallets`."""

    def __init__(self, connection: Connection, wallets: RedisWallets) -> None:
        self._client = connection.client
        self._prefix = connection.prefix + "buckets:"
        self._wallets = wallets.key
        self._take = connection.decision(_TAKE)
        self._settle = connection.decision(_SETTLE)

    @guarded
    def take(
        self,
        key: str,
        capacities: Capacities,
        needs: Mapping[str, float],
        now: float,
        estimate: float = 0.0,
    ) -> Taken:
        amounts = [needs.get(name, 0) for name in BUCKETS]
        result = self._take(
            keys=[self._prefix + key, self._wallets],
            args=[*capacities, *amounts, key, repr(estimate)],
        )
        if result[0] == "broke":
            return Taken({}, broke=float(result[1]))
        buckets = _buckets(capacities, result)
        worst = int(result[4])
        if worst == 0:
            return Taken(buckets)
        return Taken(buckets, BUCKETS[worst - 1], float(result[5]))

    @guarded
    def settle(
        self, key: str, capacities: Capacities, give_back: float | None, credits: float, now: float
    ) -> Buckets:
        result = self._settle(
            keys=[self._prefix + key, self._wallets],
            args=[*capacities, "" if give_back is None else give_back, credits, key],
        )
        return _buckets(capacities, result)

    @guarded
    def reset(self) -> None:
        for name in self._client.scan_iter(match=self._prefix + "*", count=500):
            self._client.delete(name)

    @guarded
    def all(self, now: float, capacities_of: Callable[[str], Capacities]) -> dict[str, Buckets]:
        found: dict[str, Buckets] = {}
        for name in self._client.scan_iter(match=self._prefix + "*", count=500):
            fields = cast(dict[str, str], self._client.hgetall(name))
            if "updated" not in fields:
                continue
            key = name.removeprefix(self._prefix)
            updated = float(fields["updated"])
            found[key] = {}
            for bucket, capacity in zip(BUCKETS, capacities_of(key), strict=True):
                found[key][bucket] = Bucket(capacity, updated, float(fields[bucket]))
                found[key][bucket].refill(now)
        return found


def _buckets(capacities: Capacities, result: list[Any]) -> Buckets:
    now = float(result[3])
    return {
        name: Bucket(capacity, now, float(level))
        for name, capacity, level in zip(BUCKETS, capacities, result[:3], strict=True)
    }
