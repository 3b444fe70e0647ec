"""Codes sent and verified per group in Redis: one hash of buckets per group.

Each group is its own key (its own slot on Redis Cluster); a count is one
script per group, all sent at once (HINCRBY, PEXPIRE, and dropping buckets older than
what is kept), a read one pipelined HGETALL per group. The send gate reads
the running totals a group's hash also keeps (``GROUPS_LUA``), so a login
costs O(1) however many buckets a window holds; :meth:`RedisConversionLog.counts`
(``referrals pumping``) still sums the buckets, and gives the same answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import (
    TOTALS_RESYNC,
    ScriptCall,
    text,
    translated_errors,
)

# A group in a script (shared with the send gate, adapters/redis/send_gate.py).
# Besides its buckets and mark, a group's hash keeps running totals:
# ``total:sent`` and ``total:verified``, the sums of its buckets from
# ``total:from`` on (names the code before them skips when it reads).
# group_sums: a group's sent and verified since bucket ``first``, its mark,
# and its state (group_state: one HMGET of the totals, the mark and the
# bucket last pruned in); it moves the totals to ``first``, one HMGET per
# bucket passed, and reads the whole hash only when that costs less (a
# window that moved further than the hash has fields), when the totals are
# missing (a hash the code before them wrote) and once every TOTALS_RESYNC buckets
# (so totals that drifted, from a process of the old code counting during a
# rolling upgrade, are right again within TOTALS_RESYNC buckets). Buckets it passes
# stay until count_group drops them: a read with an earlier ``first`` still
# finds them. add_to_group: add ``by`` to a bucket's ``field``
# (``sent:<bucket>``) and to the total if it counts that bucket (a give-back
# too). count_group: the same, keep the key ``ttl`` ms unless an operator's
# mark is on it (a mark stays until changed), and, at most once a bucket
# (``total:pruned``), drop buckets before ``oldest`` if there are more than
# the kept ones (sent and verified from ``oldest`` on, the mark and the
# totals) could be. Given the state group_sums read (the send gate), a
# count costs two HINCRBYs and a PEXPIRE.
GROUPS_LUA = (
    f"local GROUPS_RESYNC = {TOTALS_RESYNC}\n"
    + """
local GROUP_STATE = {'total:from', 'total:sent', 'total:verified', 'mark:', 'total:pruned'}

-- What a group's hash says of itself, in one HMGET: its totals, the first
-- bucket they count, its mark and the bucket it was last pruned in.
local function group_state(key)
  local got = redis.call('HMGET', key, unpack(GROUP_STATE))
  return {from = tonumber(got[1]), sent = tonumber(got[2]), verified = tonumber(got[3]),
    mark = got[4] or '', pruned = tonumber(got[5])}
end

local function group_scan(key, first, state)
  local flat = redis.call('HGETALL', key)
  local sums = {sent = 0, verified = 0}
  for j = 1, #flat, 2 do
    local kind, bucket = string.match(flat[j], '^(%a+):(%d*)$')
    if sums[kind] ~= nil and tonumber(bucket) >= first then
      sums[kind] = sums[kind] + tonumber(flat[j + 1])
    end
  end
  redis.call('HSET', key, 'total:from', first, 'total:sent', sums.sent,
    'total:verified', sums.verified)
  state.from = first
  return sums.sent, sums.verified, state.mark, state
end

local function group_sums(key, first)
  local state = group_state(key)
  local from, sent, verified = state.from, state.sent, state.verified
  if from == first and sent ~= nil and verified ~= nil then
    return sent, verified, state.mark, state
  end
  local fields = redis.call('HLEN', key)
  if fields == 0 then return 0, 0, '', state end
  if from == nil or sent == nil or verified == nil or math.abs(first - from) > fields
    or math.floor(first / GROUPS_RESYNC) ~= math.floor(from / GROUPS_RESYNC) then
    return group_scan(key, first, state)
  end
  for b = from, first - 1 do
    local left = redis.call('HMGET', key, 'sent:' .. b, 'verified:' .. b)
    sent, verified = sent - (tonumber(left[1]) or 0), verified - (tonumber(left[2]) or 0)
  end
  for b = first, from - 1 do
    local back = redis.call('HMGET', key, 'sent:' .. b, 'verified:' .. b)
    sent, verified = sent + (tonumber(back[1]) or 0), verified + (tonumber(back[2]) or 0)
  end
  redis.call('HSET', key, 'total:from', first, 'total:sent', sent, 'total:verified', verified)
  state.from = first
  return sent, verified, state.mark, state
end

local function add_counted(key, field, by, from)
  local kind, bucket = string.match(field, '^(%a+):(%d+)$')
  redis.call('HINCRBY', key, field, by)
  if from ~= nil and tonumber(bucket) >= from then
    redis.call('HINCRBY', key, 'total:' .. kind, by)
  end
  return tonumber(bucket)
end

local function add_to_group(key, field, by)
  return add_counted(key, field, by, tonumber(redis.call('HGET', key, 'total:from')))
end

local function count_group(key, field, by, oldest, ttl, state)
  state = state or group_state(key)
  if state.from == nil and redis.call('EXISTS', key) == 0 then
    -- a new group: its totals from the start
    redis.call('HSET', key, 'total:from', oldest, 'total:sent', 0, 'total:verified', 0)
    state.from = oldest
  end
  local from = state.from
  local bucket = add_counted(key, field, by, from)
  if state.mark == '' then redis.call('PEXPIRE', key, ttl) end
  if state.pruned == bucket then return end
  -- at most once a bucket (a bucket adds at most its two fields)
  redis.call('HSET', key, 'total:pruned', bucket)
  local kept = bucket - oldest + 1
  if redis.call('HLEN', key) > 2 * kept + 5 then
    for _, name in ipairs(redis.call('HKEYS', key)) do
      local kind, b = string.match(name, '^(%a+):(%d+)$')
      b = tonumber(b)
      if b ~= nil and b < oldest then
        if from ~= nil and b >= from then  -- counted: it leaves the total (-0 is no integer)
          local value = tonumber(redis.call('HGET', key, name))
          if value ~= 0 then redis.call('HINCRBY', key, 'total:' .. kind, -value) end
        end
        redis.call('HDEL', key, name)
      end
    end
  end
end
"""
)

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
