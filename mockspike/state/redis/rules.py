"""The rules store in Redis: the rules as their script-file form (a list of JSON specs),
a version number that every process checks before deciding (and reloads the rules on a
change), each rule's uses (a hash by number) and the scenarios' states (a hash).
Claiming a use and storing rules are decisions (`Connection.decision`)."""

from __future__ import annotations

from typing import Any, cast

from mockspike import _json
from mockspike.state.redis.client import Connection, guarded
from mockspike.state.rules import ELSEWHERE, STARTED, USED_UP, Loaded

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


class RedisRules:
    """`RuleStore` in Redis, shared by every process pointed at it."""

    shared = True

    def __init__(self, connection: Connection) -> None:
        self._client = connection.client
        prefix = connection.prefix
        self._rules = prefix + "rules"
        self._version_key = prefix + "rules:version"
        self._calls = prefix + "rules:calls"
        self._scenarios = prefix + "scenarios"
        self._script_digest = prefix + "rules:script:digest"
        self._script_rules = prefix + "rules:script:count"
        self._claim = connection.decision(_CLAIM)
        self._store = connection.decision(_STORE)
        self._store_script = connection.decision(_STORE_SCRIPT)

    @guarded
    def claim(
        self,
        number: int,
        times: int | None,
        used: int,
        scenario: str | None,
        state: str | None,
        next_state: str | None,
    ) -> tuple[int, str | None]:
        limit = "" if times is None else times
        position, seen = self._claim(
            keys=[self._calls, self._scenarios],
            args=[number, limit, scenario or "", state or "", next_state or "", STARTED],
        )
        position = int(position)
        if position == -1:
            return USED_UP, None
        if position < 0:
            return ELSEWHERE, None
        return position, seen or None

    @guarded
    def scenarios(self) -> dict[str, str]:
        return cast(dict[str, str], self._client.hgetall(self._scenarios))

    @guarded
    def set_scenario(self, name: str, state: str) -> None:
        self._client.hset(self._scenarios, name, state)

    @guarded
    def reset_scenarios(self) -> None:
        self._client.delete(self._scenarios)

    @guarded
    def load(self, known: str | None) -> Loaded:
        """One round trip: the rules' version and use counts; the rules themselves only
        when their version is not `known` (another process changed them)."""
        pipe = self._client.pipeline(transaction=True)
        pipe.get(self._version_key)
        pipe.hgetall(self._calls)
        version, calls = pipe.execute()
        counts = {int(number): int(count) for number, count in calls.items()}
        if version == known:
            return Loaded(version, counts, None)
        specs = [_json.loads(s) for s in self._client.lrange(self._rules, 0, -1)]
        return Loaded(version, counts, specs)

    @guarded
    def store_rules(self, specs: list[dict[str, Any]]) -> None:
        self._store(
            keys=[self._rules, self._version_key],
            args=[_json.dumps(s).decode() for s in specs],
        )

    @guarded
    def store_script(self, specs: list[dict[str, Any]], digest: str) -> bool:
        keys = [
            self._rules,
            self._version_key,
            self._calls,
            self._script_digest,
            self._script_rules,
        ]
        stored = self._store_script(
            keys=keys, args=[digest, *[_json.dumps(s).decode() for s in specs]]
        )
        return bool(stored)

    @guarded
    def clear(self) -> None:
        pipe = self._client.pipeline(transaction=True)
        pipe.delete(self._rules, self._calls, self._scenarios)
        pipe.delete(self._script_digest, self._script_rules)
        pipe.incr(self._version_key)
        pipe.execute()
