"""Codes sent and verified per group in Redis: one hash of buckets per group.

Each group is its own key (its own slot on Redis Cluster); a count is one
script per group, all sent at once (HINCRBY, PEXPIRE, and dropping buckets older than
what is kept), a read one pipelined HGETALL per group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import text, translated_errors

_ADD = """
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if redis.call('HLEN', KEYS[1]) > 8 then
  local oldest = tonumber(ARGV[2])
  local fields = redis.call('HKEYS', KEYS[1])
  for _, name in ipairs(fields) do
    local bucket = tonumber(string.match(name, ':(%d+)$'))
    if bucket ~= nil and bucket < oldest then redis.call('HDEL', KEYS[1], name) end
  end
end
return 1
"""


class RedisConversionLog:
    """:class:`~referrals.application.ports.ConversionLog` as
    ``{prefix}conv:{group}`` hashes of ``sent:<bucket>`` and ``verified:<bucket>``."""

    def __init__(self, client: RedisClient, prefix: str, bucket: float) -> None:
        self._client = client
        self._prefix = prefix
        self._bucket = bucket
        self._add = client.register_script(_ADD)

    def _key(self, group: str) -> str:
        return f"{self._prefix}conv:{{{group}}}"

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

    async def add(self, groups: Sequence[str], kind: str, at: float, keep: float) -> None:
        bucket = int(at // self._bucket)
        args: list[str | int] = [
            f"{kind}:{bucket}",
            int((at - keep) // self._bucket),
            int((keep + self._bucket) * 1000),
        ]
        with translated_errors():  # one script per key: its own slot on a cluster
            await asyncio.gather(*(self._add([self._key(group)], args) for group in groups))
