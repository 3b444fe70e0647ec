"""Sliding-window rate limits in Redis sorted sets, decided by one Lua script."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from typing import Any

from redis.asyncio.cluster import RedisCluster

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import ScriptCall, cleanup_ms, text, translated_errors
from referrals.domain.limits import Quota, Refusal

# acquire(keys, at): ``keys`` one sorted set per quota (score: the event's
# time; member: "client|ticket"). ARGV[1] now, ARGV[2] the ticket; from
# ARGV[at], per key: client, record (1/0), TTL ms, trim cutoff (now - longest
# window), rule count; then per rule: count, window, cutoff (now - window), per
# client (1/0). Checks every rule of every key, then records on each counted
# key only if none refused. Returns nil and the members recorded (false where
# none was), or {key index, rule index, oldest score} of the refusal with the
# longest wait (the caller turns the score into seconds: Lua numbers come
# back as integers). Other scripts (adapters/redis/code_check.py) call it too.
# Its halves, for a script that checks more between them (send_gate.py):
# check_quotas(keys, at) returns the refusal or false, the plan, and the ARGV
# index after the quotas' arguments; record_quotas(keys, plan) records.
ACQUIRE_FUNCTION = """
local function check_quotas(keys, at)
  local now = tonumber(ARGV[1])
  local plan = {}
  local worst_key, worst_rule, worst_wait, worst_oldest = 0, 0, 0, false
  for i, key in ipairs(keys) do
    local client, rules = ARGV[at], tonumber(ARGV[at + 4])
    plan[i] = {ARGV[at + 1], client, ARGV[at + 2]}
    redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[at + 3])
    at = at + 5
    for r = 1, rules do
      local count, window = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
      local since = '(' .. ARGV[at + 2]
      local oldest = false
      if ARGV[at + 3] == '1' then
        local events = redis.call('ZRANGEBYSCORE', key, since, '+inf', 'WITHSCORES')
        local times, mine = {}, client .. '|'
        for j = 1, #events, 2 do
          if string.sub(events[j], 1, #mine) == mine then times[#times + 1] = events[j + 1] end
        end
        if #times >= count then oldest = times[#times - count + 1] end
      else
        local n = redis.call('ZCOUNT', key, since, '+inf')
        if n >= count then
          oldest = redis.call('ZRANGEBYSCORE', key, since, '+inf', 'WITHSCORES',
            'LIMIT', n - count, 1)[2]
        end
      end
      if oldest then
        local wait = tonumber(oldest) + window - now
        if worst_key == 0 or wait > worst_wait then
          worst_key, worst_rule, worst_wait, worst_oldest = i, r, wait, oldest
        end
      end
      at = at + 4
    end
  end
  if worst_key > 0 then return {worst_key, worst_rule, worst_oldest}, plan, at end
  return false, plan, at
end

local function record_quotas(keys, plan)
  local recorded = {}
  for i, key in ipairs(keys) do
    recorded[i] = false
    if plan[i][1] == '1' then
      recorded[i] = plan[i][2] .. '|' .. ARGV[2]
      redis.call('ZADD', key, ARGV[1], recorded[i])
      redis.call('PEXPIRE', key, plan[i][3])
    end
  end
  return recorded
end

local function acquire(keys, at)
  local refused, plan = check_quotas(keys, at)
  if refused then return refused end
  return nil, record_quotas(keys, plan)
end
"""
_ACQUIRE = (
    ACQUIRE_FUNCTION
    + """
local refused = acquire(KEYS, 3)
if refused then return refused end
return {0}
"""
)


def _client(quota: Quota) -> str:
    return quota.client.replace("|", "%7C")


def event_name(quota: Quota, ticket: str) -> str:
    """The member a quota's event of ``ticket`` is recorded as."""
    return f"{_client(quota)}|{ticket}"


class RedisRateLimiter:
    """Per-key logs of events in sorted sets ``{prefix}rate:{{quota key}}``,
    or ``{prefix}rate:{quota key}`` for a key that names its own hash tag
    (score: the event's time; member: ``client|ticket``).

    On one Redis server, :meth:`acquire` is one Lua script over every quota:
    it trims events that left the windows, checks every rule, and records the
    event on each counted quota only if all have room. Redis runs nothing in
    between, so for every process that shares the server the check and the
    record are one step: 50 concurrent requests against a limit of 10 get
    exactly 10 passes, and a refusal records nothing anywhere.

    On Redis Cluster each quota key is its own hash slot (the braces in the
    key name), so a script may touch only one: each quota is decided by its
    own script, all sent at once, and if one refuses, the events the others
    recorded are removed again (``ZREM``). No rule is ever exceeded; under
    contention a request may be refused by an event that is about to be
    removed (see the port).

    Times are the callers' (never Redis's clock), exactly as with the
    in-memory limiter; key TTLs only drop logs nobody touched for a whole
    window. An event without a ticket gets a random name. Per-client rules
    scan the events in their window, so keep the quotas that have them small
    (a phone's dozen codes a day, not a global ceiling).
    """

    def __init__(self, client: RedisClient, prefix: str) -> None:
        self.client = client
        self._prefix = prefix
        self._cluster = isinstance(client, RedisCluster)
        self._acquire = client.register_script(_ACQUIRE)

    def key(self, quota_key: str) -> str:
        """The sorted set of a quota key. A key that names its hash tag
        (``fail:{alias}``, see :class:`~referrals.domain.limits.Quota`) keeps
        it, so it shares the slot of every key with that tag; any other key
        is its own tag whole (braces inside it escaped)."""
        head, _, tail = quota_key.partition("{")
        named = tail[:-1]
        if head and "}" not in head and tail.endswith("}") and named.isalnum():
            return f"{self._prefix}rate:{quota_key}"
        tag = quota_key.replace("{", "%7B").replace("}", "%7D")
        return f"{self._prefix}rate:{{{tag}}}"

    @staticmethod
    def quota_args(quotas: Sequence[Quota], now: float) -> list[str | int]:
        """The arguments ``acquire`` (the Lua function) reads for ``quotas``."""
        args: list[str | int] = []
        for quota in quotas:
            args += [
                _client(quota),
                int(quota.count),
                cleanup_ms(quota.longest_window),
                repr(now - quota.longest_window),
                len(quota.rules),
            ]
            for rule in quota.rules:
                window = rule.limit.window
                args += [rule.limit.count, repr(window), repr(now - window), int(rule.per_client)]
        return args

    @staticmethod
    def refusal(quotas: Sequence[Quota], reply: Sequence[Any], now: float) -> Refusal:
        """The refusal ``acquire`` answered as {key index, rule index, oldest score}."""
        quota = quotas[int(reply[0]) - 1]
        rule = quota.rules[int(reply[1]) - 1]
        return Refusal(quota, rule, float(text(reply[2])) + rule.limit.window - now)

    def acquire_call(self, quotas: Sequence[Quota], now: float, ticket: str) -> ScriptCall:
        """The script that takes ``quotas`` on one server; its reply is
        ``{0}`` or what :meth:`refusal` reads."""
        keys = [self.key(quota.key) for quota in quotas]
        return ScriptCall(self._acquire, keys, [repr(now), ticket, *self.quota_args(quotas, now)])

    async def _decide(self, quotas: Sequence[Quota], now: float, ticket: str) -> Refusal | None:
        """One script over ``quotas``: all pass and are recorded, or none is."""
        reply = await self.acquire_call(quotas, now, ticket).run()
        return None if int(reply[0]) == 0 else self.refusal(quotas, reply, now)

    async def acquire(
        self, quotas: Sequence[Quota], now: float, ticket: str | None = None
    ) -> Refusal | None:
        if not quotas:
            return None
        name = ticket if ticket is not None else secrets.token_hex(8)
        if not self._cluster:
            return await self._decide(quotas, now, name)
        decided = await asyncio.gather(
            *(self._decide([quota], now, name) for quota in quotas), return_exceptions=True
        )
        refusals = [r for r in decided if isinstance(r, Refusal)]
        if refusals or any(isinstance(r, BaseException) for r in decided):
            taken = [q for q, r in zip(quotas, decided, strict=True) if r is None]
            await self.refund(taken, name)
        for result in decided:
            if isinstance(result, BaseException):
                raise result
        return max(refusals, key=lambda r: r.retry_after, default=None)

    async def refund(self, quotas: Sequence[Quota], ticket: str) -> None:
        counted = [quota for quota in quotas if quota.count]
        if not counted:
            return
        with translated_errors():
            if self._cluster:
                await asyncio.gather(*(self._forget(quota, ticket) for quota in counted))
            else:
                pipe = self.client.pipeline(transaction=False)
                for quota in counted:
                    pipe.zrem(self.key(quota.key), event_name(quota, ticket))
                await pipe.execute()

    async def _forget(self, quota: Quota, ticket: str) -> None:
        await self.client.zrem(self.key(quota.key), event_name(quota, ticket))

    async def reset(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        with translated_errors():
            if self._cluster:
                await asyncio.gather(*(self.client.delete(self.key(key)) for key in keys))
            else:
                await self.client.delete(*(self.key(key) for key in keys))
