"""Sliding-window rate limits in Redis sorted sets, all quotas in one script."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import redis.asyncio

from referrals.adapters.redis.support import cleanup_ms, text, translated_errors
from referrals.application.ports import Quota, Refusal

# KEYS: one sorted set per quota. ARGV[1] now, ARGV[2] the event's member,
# then five per quota: count, window, cutoff (now - window), record (1/0), TTL ms.
# Replies {0} when every quota took the event, else {index, oldest score} of
# the quota with the longest wait (the caller turns the score into seconds).
_ACQUIRE = """
local now = tonumber(ARGV[1])
local worst, worst_wait, worst_oldest = 0, 0, false
for i, key in ipairs(KEYS) do
  local at = 2 + (i - 1) * 5
  local count = tonumber(ARGV[at + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[at + 3])
  local size = redis.call('ZCARD', key)
  if size >= count then
    local oldest = redis.call('ZRANGE', key, size - count, size - count, 'WITHSCORES')[2]
    local wait = tonumber(oldest) + tonumber(ARGV[at + 2]) - now
    if worst == 0 or wait > worst_wait then
      worst, worst_wait, worst_oldest = i, wait, oldest
    end
  end
end
if worst > 0 then return {worst, worst_oldest} end
for i, key in ipairs(KEYS) do
  local at = 2 + (i - 1) * 5
  if ARGV[at + 4] == '1' then
    redis.call('ZADD', key, ARGV[1], ARGV[2])
    redis.call('PEXPIRE', key, ARGV[at + 5])
  end
end
return {0}
"""
_REFUND = """
for _, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[1]) end
"""


class RedisRateLimiter:
    """Per-key logs of event times in sorted sets ``{prefix}rate:{quota key}``
    (score: the event's time, member: its name).

    :meth:`acquire` is one Lua script over every quota: it trims events that
    left each window, checks every quota, and records the event on each
    counted quota only if all have room. Redis runs nothing in between, so
    the check and the record are one step for every process that shares the
    server: 50 concurrent requests against a limit of 10 get exactly 10
    passes, and a refusal records nothing anywhere. Times are the callers'
    (never Redis's clock), exactly as with the in-memory limiter; key TTLs
    only drop logs nobody touched for a whole window.

    An event is named ``t:{ticket}`` when the caller gives a ticket (unique
    per acquisition, as the port requires), so :meth:`refund` removes it
    with a ``ZREM``; otherwise it gets a random name. One acquisition should
    not list a key twice: the set holds one event per name.
    """

    def __init__(self, client: redis.asyncio.Redis, prefix: str) -> None:
        self._prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)
        self._refund = client.register_script(_REFUND)

    def _keys(self, quotas: Sequence[Quota]) -> list[str]:
        return [f"{self._prefix}rate:{quota.key}" for quota in quotas]

    async def acquire(
        self, quotas: Sequence[Quota], now: float, ticket: str | None = None
    ) -> Refusal | None:
        if not quotas:
            return None
        member = f"t:{ticket}" if ticket is not None else f"r:{secrets.token_hex(8)}"
        args: list[str | int] = [repr(now), member]
        for quota in quotas:
            window = quota.limit.window
            args += [
                quota.limit.count,
                repr(window),
                repr(now - window),
                int(quota.count),
                cleanup_ms(window),
            ]
        with translated_errors():
            reply = await self._acquire(self._keys(quotas), args)
        index = int(reply[0])
        if index == 0:
            return None
        quota = quotas[index - 1]
        return Refusal(quota, float(text(reply[1])) + quota.limit.window - now)

    async def refund(self, quotas: Sequence[Quota], ticket: str) -> None:
        if quotas:
            with translated_errors():
                await self._refund(self._keys(quotas), [f"t:{ticket}"])
