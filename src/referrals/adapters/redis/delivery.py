"""The delivery ledger in Redis: one key per challenge, one script per method."""

from __future__ import annotations

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import cleanup_ms, text, translated_errors
from referrals.domain.messages import Claim

_CLAIMS = {"granted": Claim.GRANTED, "sent": Claim.SENT, "lease": Claim.HELD}

# Values: "lease|{until}|{claimant}" while a worker sends, "sent|{keep until}" after.
# KEYS[1] the entry; ARGV[1] now, [2] end of the lease, [3] claimant, [4] TTL ms.
_CLAIM = """
local held = redis.call('GET', KEYS[1])
if held and tonumber(string.match(held, '^%a+|([^|]+)')) > tonumber(ARGV[1]) then
  return string.match(held, '^(%a+)|')
end
redis.call('SET', KEYS[1], 'lease|' .. ARGV[2] .. '|' .. ARGV[3], 'PX', ARGV[4])
return 'granted'
"""
# ARGV[1] the claimant whose lease may be deleted.
_RELEASE = """
local held = redis.call('GET', KEYS[1])
if held and string.match(held, '^lease|[^|]+|(.*)$') == ARGV[1] then redis.call('DEL', KEYS[1]) end
"""


class RedisDeliveryLedger:
    """Claims and sent marks as ``{prefix}delivery:{challenge id}``.

    Each method is one Lua script, so a check and the write that follows it
    are one step: of many workers claiming one code at once, one wins.
    A claim holds while its stored end is after the caller's ``now`` (the
    in-memory ledger's rule; TTLs only clean up). :meth:`release` deletes
    only a lease, never a sent mark, so a late failure report of one worker
    cannot make another's sent code go out again.
    """

    def __init__(self, client: RedisClient, prefix: str) -> None:
        self._prefix = prefix
        self._client = client
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)

    def _keys(self, challenge_id: str) -> list[str]:
        return [f"{self._prefix}delivery:{challenge_id}"]

    async def claim(self, challenge_id: str, claimant: str, lease: float, now: float) -> Claim:
        args: list[str | int] = [repr(now), repr(now + lease), claimant, cleanup_ms(lease)]
        with translated_errors():
            answer = text(await self._claim(self._keys(challenge_id), args))
        return _CLAIMS[answer]

    async def mark_sent(self, challenge_id: str, keep_until: float, now: float) -> None:
        key = self._keys(challenge_id)[0]
        with translated_errors():
            await self._client.set(key, f"sent|{keep_until!r}", px=cleanup_ms(keep_until - now))

    async def release(self, challenge_id: str, claimant: str) -> None:
        with translated_errors():
            await self._release(self._keys(challenge_id), [claimant])
