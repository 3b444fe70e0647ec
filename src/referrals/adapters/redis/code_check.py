"""A code's check with its charge in Redis: one script over the phone's slot."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio.cluster import RedisCluster

from referrals.adapters.redis.challenges import ATTEMPT_FUNCTION, RedisChallengeStore, attempt_of
from referrals.adapters.redis.rate_limiter import ACQUIRE_FUNCTION, RedisRateLimiter
from referrals.adapters.redis.support import text, translated_errors
from referrals.domain.challenge import Attempt
from referrals.domain.limits import Quota, Refusal

# KEYS: the quotas' logs, then the login hash. ARGV[1] now, [2] the ticket,
# [3] how many quotas come before the refundable ones, [4] the challenge id,
# [5] the code's digest, from [6] the quotas' arguments (see ACQUIRE_FUNCTION).
_CHECK = (
    ACQUIRE_FUNCTION
    + ATTEMPT_FUNCTION
    + """
local quotas = {}
for i = 1, #KEYS - 1 do quotas[i] = KEYS[i] end
local refused, recorded = acquire(quotas, 6)
if refused then return {'refused', refused[1], refused[2], refused[3]} end
local reply = attempt(KEYS[#KEYS], ARGV[4], ARGV[1], ARGV[5])
if reply[1] ~= 'wrong' then
  for i = tonumber(ARGV[3]) + 1, #quotas do
    if recorded[i] then redis.call('ZREM', quotas[i], recorded[i]) end
  end
end
return reply
"""
)


class RedisCodeCheck:
    """:class:`~referrals.application.ports.CodeCheck` over a
    :class:`RedisRateLimiter` and a :class:`RedisChallengeStore` on one client.

    On one server the charge, the attempt and the refund are one script
    over the address's quotas, the phone's and its login (a script may
    touch keys of any slot there): one round trip, and no other client
    runs in between. On Redis Cluster the address's quotas live in other
    slots: they are taken first (the limiter's way), then one script takes
    the phone's quotas and looks at the code in the phone's slot (its
    wrong-code quotas and its login share the alias as hash tag); a refusal
    there gives the address's events back.
    """

    def __init__(self, limiter: RedisRateLimiter, challenges: RedisChallengeStore) -> None:
        self._limiter = limiter
        self._challenges = challenges
        self._cluster = isinstance(limiter.client, RedisCluster)
        self._check = limiter.client.register_script(_CHECK)

    async def check(
        self,
        challenge_id: str,
        code_digest: str,
        now: float,
        *,
        address: Sequence[Quota],
        phone: Sequence[Quota],
        ticket: str,
    ) -> Attempt | Refusal:
        if not self._cluster:
            return await self._run(
                challenge_id, code_digest, now, [*address, *phone], len(address), ticket
            )
        refusal = await self._limiter.acquire(address, now, ticket)
        if refusal is not None:
            return refusal
        outcome = await self._run(challenge_id, code_digest, now, phone, 0, ticket)
        if isinstance(outcome, Refusal):
            await self._limiter.refund(address, ticket)
        return outcome

    async def _run(
        self,
        challenge_id: str,
        code_digest: str,
        now: float,
        quotas: Sequence[Quota],
        kept: int,
        ticket: str,
    ) -> Attempt | Refusal:
        keys = [self._limiter.key(quota.key) for quota in quotas]
        keys.append(self._challenges.key(challenge_id))
        args: list[str | int] = [repr(now), ticket, kept, challenge_id, code_digest]
        args += self._limiter.quota_args(quotas, now)
        with translated_errors():
            reply = await self._check(keys, args)
        if text(reply[0]) == "refused":
            return self._limiter.refusal(quotas, reply[1:], now)
        return attempt_of(reply)
