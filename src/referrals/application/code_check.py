"""A code's check with its charge, over any rate limiter and challenge store."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from referrals.application import rate_limits
from referrals.application.ports import ChallengeStore, Cooldowns, RateLimiter
from referrals.domain.challenge import Attempt, AttemptResult
from referrals.domain.codes import alias_of
from referrals.domain.limits import Quota, Refusal


@dataclass(frozen=True, slots=True)
class StepwiseCodeCheck:
    """:class:`~referrals.application.ports.CodeCheck` as three calls: the
    charge, the attempt, the refund (then, for an accepted code, the
    phone's cooldown read). With stores whose calls never suspend (the
    in-memory ones) nothing runs in between, so the three are one step;
    with others each is atomic on its own, in that order."""

    limiter: RateLimiter
    challenges: ChallengeStore
    cooldowns: Cooldowns | None = None

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
        refusal = await self.limiter.acquire([*address, *phone], now, ticket)
        if refusal is not None:
            return refusal
        attempt = await self.challenges.attempt(challenge_id, code_digest, now)
        if attempt.result is not AttemptResult.WRONG:
            await rate_limits.refund(self.limiter, phone, ticket)
        if attempt.result is AttemptResult.ACCEPTED and self.cooldowns is not None:
            until = await self.cooldowns.ends(alias_of(challenge_id), now)
            attempt = dataclasses.replace(attempt, cooldown_until=until)
        return attempt
