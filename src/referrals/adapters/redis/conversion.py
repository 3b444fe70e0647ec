"""Codes sent and verified per group in Redis: one hash of buckets per group.

Each group is its own key (its own slot on Redis Cluster); a count is one
script per group, all sent at once (HINCRBY, PEXPIRE, and dropping buckets older than
what is kept), a read one pipelined HGETALL per group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import ScriptCall, text, translated_errors

# A group in a script (shared with the send gate, adapters/redis/send_gate.py).
# group_sums: a group's sent and verified since bucket ``first``, and its mark.
# count_group: add ``by`` to its ``field`` (``sent:<bucket>``), keep the key
# ``ttl`` ms unless an operator's mark is on it (a mark stays until changed),
# and drop buckets before ``oldest`` once there are more than the kept ones
# (sent and verified from ``oldest`` on, and the mark) could be: a busy group
# scans its fields about once a bucket, not at every count.
GROUPS_LUA = """
local function group_sums(key, first)
  local flat = redis.call('HGETALL', key)
  local sums, mark = {sent = 0, verified = 0}, ''
  for j = 1, #flat, 2 do
    local kind, bucket = string.match(flat[j], '^(%a+):(%d*)$')
    if kind == 'mark' then
      mark = flat[j + 1]
    elseif sums[kind] ~= nil and tonumber(bucket) >= first then
      sums[kind] = sums[kind] + tonumber(flat[j + 1])
    end
  end
  return sums.sent, sums.verified, mark
end

local function count_group(key, field, by, oldest, ttl)
  redis.call('HINCRBY', key, field, by)
  if redis.call('HEXISTS', key, 'mark:') == 0 then redis.call('PEXPIRE', key, ttl) end
  local kept = tonumber(string.match(field, ':(%d+)$')) - oldest + 1
  if redis.call('HLEN', key) > 2 * kept + 1 then
    for _, name in ipairs(redis.call('HKEYS', key)) do
      local bucket = tonumber(string.match(name, ':(%d+)$'))
      if bucket ~= nil and bucket < oldest then redis.call('HDEL', key, name) end
    end
  end
end
"""

# KEYS[1] the group; ARGV: field, oldest bucket kept, TTL ms, by.
_ADD = (
    GROUPS_LUA
    + """
count_group(KEYS[1], ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[2]), ARGV[3])
return 1
"""
)


def conversion_key(prefix: str, group: str) -> str:
    """The hash of a group's buckets (its own slot on a cluster)."""
    return f"{prefix}conv:{{{group}}}"


def count_args(bucket: float, kind: str, at: float, keep: float) -> list[str | int]:
    """``count_group``'s field, oldest bucket and TTL for a count at ``at``."""
    return [f"{kind}:{int(at // bucket)}", int((at - keep) // bucket), int((keep + bucket) * 1000)]


class RedisConversionLog:
    """:class:`~referrals.application.ports.ConversionLog` as
    ``{prefix}conv:{group}`` hashes of ``sent:<bucket>`` and ``verified:<bucket>``."""

    def __init__(self, client: RedisClient, prefix: str, bucket: float) -> None:
        self._client = client
        self._prefix = prefix
        self._bucket = bucket
        self._add = client.register_script(_ADD)

    @property
    def client(self) -> RedisClient:
        """The client the store talks through (stores on one client may share a round trip)."""
        return self._client

    def _key(self, group: str) -> str:
        return conversion_key(self._prefix, group)

    async def counts(self, groups: Sequence[str], since: float) -> list[tuple[int, int, str]]:
        first = int(since // self._bucket)
        with translated_errors():
            async with self._client.pipeline(transaction=False) as pipe:
                for group in groups:
                    pipe.hgetall(self._key(group))
                hashes = await pipe.execute()
        totals = []
        for fields in hashes:
            sums, mark = {"sent": 0, "verified": 0}, ""
            for name, value in fields.items():
                kind, _, bucket = text(name).partition(":")
                if kind == "mark":
                    mark = text(value)
                elif kind in sums and int(bucket) >= first:
                    sums[kind] += int(value)
            totals.append((sums["sent"], sums["verified"], mark))
        return totals

    async def mark(self, group: str, mark: str) -> None:
        with translated_errors():
            if mark:  # kept until changed: the key no longer expires
                await self._client.hset(self._key(group), "mark:", mark)
                await self._client.persist(self._key(group))
            else:
                await self._client.hdel(self._key(group), "mark:")
                await self._client.pexpire(self._key(group), 2 * 86_400 * 1000)

    async def groups(self) -> list[str]:
        start = f"{self._prefix}conv:{{"
        found = []
        with translated_errors():
            async for key in self._client.scan_iter(match=f"{start}*", count=1000):
                found.append(text(key).removeprefix(start).removesuffix("}"))
        return sorted(found)

    def add_calls(
        self, groups: Sequence[str], kind: str, at: float, keep: float, by: int = 1
    ) -> list[ScriptCall]:
        """One script per group (its own slot on a cluster) adding ``by`` to ``kind`` at ``at``."""
        args = [*count_args(self._bucket, kind, at, keep), by]
        return [ScriptCall(self._add, [self._key(group)], args) for group in groups]

    async def add(
        self, groups: Sequence[str], kind: str, at: float, keep: float, by: int = 1
    ) -> None:
        calls = self.add_calls(groups, kind, at, keep, by)
        await asyncio.gather(*(call.run() for call in calls))
