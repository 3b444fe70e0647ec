"""Activity counts in Redis: one counter key per name and hour."""

from __future__ import annotations

import asyncio

from redis.asyncio.cluster import RedisCluster

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import translated_errors
from referrals.application.activity import HOUR, KEEP_HOURS, hours

TTL = int(KEEP_HOURS * HOUR)
"""Seconds a count is kept, from its first INCR."""

_ADD = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class RedisActivityLog:
    """Counts as ``{prefix}activity:{name}:{hour}`` (hours since the epoch),
    each kept for :data:`KEEP_HOURS`. :meth:`add` is one script (INCR, and
    the TTL on the first), so every process adds to the same figures."""

    def __init__(self, client: RedisClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._cluster = isinstance(client, RedisCluster)
        self._add = client.register_script(_ADD)

    @property
    def client(self) -> RedisClient:
        """The client the store talks through (stores on one client may share a round trip)."""
        return self._client

    def _key(self, name: str, hour: int) -> str:
        return f"{self._prefix}activity:{name}:{hour}"

    def key(self, name: str, at: float) -> str:
        """The key that counts ``name`` in the hour of ``at`` (one INCR, with :data:`TTL`)."""
        return self._key(name, int(at // HOUR))

    async def add(self, name: str, at: float) -> None:
        with translated_errors():
            await self._add([self.key(name, at)], [TTL])

    async def count(self, name: str, since: float, until: float) -> int:
        keys = [self._key(name, hour) for hour in hours(since, until)]
        if not keys:
            return 0
        with translated_errors():
            if self._cluster:
                values = await asyncio.gather(*(self._client.get(key) for key in keys))
            else:
                values = await self._client.mget(keys)
        return sum(int(value) for value in values if value is not None)
