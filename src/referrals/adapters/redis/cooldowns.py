"""Cooldowns of deleted accounts' numbers in Redis (docs/account.md)."""

from __future__ import annotations

import asyncio

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import cleanup_ms, text, translated_errors

# KEYS[1] the alias's key; ARGV[1] until; ARGV[2] TTL ms. The later end wins.
_START = """
local found = redis.call('GET', KEYS[1])
if found and tonumber(found) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


def running(found: bytes | str | None, now: float) -> float | None:
    """The cooldown end a key's value names (``None`` or empty: none), if it
    runs at ``now``."""
    if not found:
        return None
    until = float(text(found))
    return until if until > now else None


class RedisCooldowns:
    """One key per number, ``{prefix}cooldown:{{alias}}`` = when it ends, in
    the alias's slot as the phone's login is, so the code check's script
    reads it with the code (``code_check.py``). The key expires with it, so
    Redis forgets the alias by itself.

    Until this release the key was ``{prefix}cooldown:{alias}`` (no hash
    tag): for one release a cooldown is written under both names and read
    from both, so a rolling upgrade loses none (docs/changelog.md).
    """

    def __init__(self, client: RedisClient, prefix: str) -> None:
        self.client = client
        self._prefix = prefix
        self._start = client.register_script(_START)

    def key(self, alias: str) -> str:
        """The alias's cooldown: the alias is the hash tag."""
        return f"{self._prefix}cooldown:{{{alias}}}"

    def legacy_key(self, alias: str) -> str:
        """The name an older release keeps the alias's cooldown under."""
        return f"{self._prefix}cooldown:{alias}"

    async def start(self, alias: str, until: float, now: float) -> None:
        args: list[str | int] = [repr(until), cleanup_ms(until - now)]
        with translated_errors():
            await asyncio.gather(
                *(self._start(keys=[key], args=args) for key in self._names(alias))
            )

    async def ends(self, alias: str, now: float) -> float | None:
        with translated_errors():
            found = await asyncio.gather(*(self.client.get(key) for key in self._names(alias)))
        ends = [until for until in (running(value, now) for value in found) if until is not None]
        return max(ends, default=None)

    def _names(self, alias: str) -> tuple[str, str]:
        return self.key(alias), self.legacy_key(alias)
