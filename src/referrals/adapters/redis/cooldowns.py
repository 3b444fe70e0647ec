"""Cooldowns of deleted accounts' numbers in Redis (docs/account.md)."""

from __future__ import annotations

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import cleanup_ms, text, translated_errors

# KEYS[1] the alias's key; ARGV[1] until; ARGV[2] TTL ms. The later end wins.
_START = """
local found = redis.call('GET', KEYS[1])
if found and tonumber(found) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


class RedisCooldowns:
    """One key per number, ``{prefix}cooldown:{alias}`` = when it ends; the
    key expires with it, so Redis forgets the alias by itself."""

    def __init__(self, client: RedisClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._start = client.register_script(_START)

    def _key(self, alias: str) -> str:
        return f"{self._prefix}cooldown:{alias}"

    async def start(self, alias: str, until: float, now: float) -> None:
        with translated_errors():
            await self._start(keys=[self._key(alias)], args=[repr(until), cleanup_ms(until - now)])

    async def ends(self, alias: str, now: float) -> float | None:
        with translated_errors():
            found = await self._client.get(self._key(alias))
        if found is None:
            return None
        until = float(text(found))
        return until if until > now else None
