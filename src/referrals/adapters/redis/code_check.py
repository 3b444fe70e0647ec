"""A code's check with its charge in Redis: one script over the phone's slot."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from redis.asyncio.cluster import RedisCluster

from referrals.adapters.redis.challenges import ATTEMPT_FUNCTION, RedisChallengeStore, attempt_of
from referrals.adapters.redis.cooldowns import RedisCooldowns, running
from referrals.adapters.redis.rate_limiter import ACQUIRE_FUNCTION, RedisRateLimiter
from referrals.adapters.redis.support import text, translated_errors
from referrals.domain.challenge import Attempt
from referrals.domain.codes import alias_of
from referrals.domain.limits import Quota, Refusal

# KEYS: the quotas' logs, the login hash, then ARGV[6] cooldown keys. ARGV[1]
# now, [2] the ticket, [3] how many quotas come before the refundable ones,
# [4] the challenge id, [5] the code's digest, from [7] the quotas' arguments
# (see ACQUIRE_FUNCTION). An accepted code's reply carries the cooldown keys'
# values ('' for none) from its third field on.
_CHECK = (
    ACQUIRE_FUNCTION
    + ATTEMPT_FUNCTION
    + """
local cooling = tonumber(ARGV[6])
local login = #KEYS - cooling
local quotas = {}
for i = 1, login - 1 do quotas[i] = KEYS[i] end
local refused, recorded = acquire(quotas, 7)
if refused then return {'refused', refused[1], refused[2], refused[3]} end
local reply = attempt(KEYS[login], ARGV[4], ARGV[1], ARGV[5])
if reply[1] ~= 'wrong' then
  for i = tonumber(ARGV[3]) + 1, #quotas do
    if recorded[i] then redis.call('ZREM', quotas[i], recorded[i]) end
  end
end
if reply[1] == 'accepted' then
  for i = login + 1, #KEYS do reply[#reply + 1] = redis.call('GET', KEYS[i]) or '' end
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

    With ``cooldowns`` (on the same client) the script also reads an
    accepted code's phone's cooldown (its key shares the alias as hash
    tag). The cooldown's older name, read too for one release (see
    :class:`RedisCooldowns`), is in the script on one server, and read
    beside it on Redis Cluster, where it lives in another slot.
    """

    def __init__(
        self,
        limiter: RedisRateLimiter,
        challenges: RedisChallengeStore,
        cooldowns: RedisCooldowns | None = None,
    ) -> None:
        self._limiter = limiter
        self._challenges = challenges
        self._cooldowns = cooldowns
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
        aside = None  # the cooldown's older name, in another slot on Redis Cluster
        if self._cooldowns is not None:
            alias = alias_of(challenge_id)
            keys.append(self._cooldowns.key(alias))
            if self._cluster:
                aside = self._limiter.client.get(self._cooldowns.legacy_key(alias))
            else:
                keys.append(self._cooldowns.legacy_key(alias))
        cooling = len(keys) - len(quotas) - 1
        args: list[str | int] = [repr(now), ticket, kept, challenge_id, code_digest, cooling]
        args += self._limiter.quota_args(quotas, now)
        with translated_errors():
            if aside is None:
                reply = await self._check(keys, args)
                found = list(reply[2:]) if text(reply[0]) == "accepted" else []
            else:
                reply, older = await asyncio.gather(self._check(keys, args), aside)
                found = [*reply[2:], older] if text(reply[0]) == "accepted" else []
        if text(reply[0]) == "refused":
            return self._limiter.refusal(quotas, reply[1:], now)
        attempt = attempt_of(reply)
        ends = [until for until in (running(value, now) for value in found) if until is not None]
        return dataclasses.replace(attempt, cooldown_until=max(ends, default=None))
