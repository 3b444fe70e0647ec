"""Step-ups: a code sent to a phone that confirms one act of a signed-in
user (delete the account, change the phone), in the two steps of a login
(``docs/account.md``).

The first step is :class:`~referrals.application.request_code.RequestCode`
with a ``purpose`` (``delete:42``), so every sending limit of a login
applies. Its code is bound to that purpose (the digest covers it), so a
login's code confirms no step-up, nor one step-up's code another, nor one
user's another's. :class:`CheckStepUp` is the second step's check: the
same charges, limits and refunds as a login's verification.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from referrals.application import lockout, rate_limits
from referrals.application.policy import Policy
from referrals.application.ports import ChallengeStore, Clock, RateLimiter
from referrals.domain.challenge import AttemptResult
from referrals.domain.codes import (
    alias_of,
    challenge_id,
    code_digest,
    for_purpose,
    normalize_confirmation_code,
)
from referrals.domain.errors import ChallengeExpired, CodeInvalid
from referrals.domain.phone import Phone


def purpose(act: str, user_id: int) -> str:
    """What a step-up's code is bound to: the act and the user."""
    return f"{act}:{user_id}"


@dataclass(frozen=True, slots=True)
class Confirmed:
    """A step-up whose code was right; :meth:`CheckStepUp.finish` ends it."""

    login: str
    phone: Phone
    """The phone the code went to."""


@dataclass(frozen=True, slots=True)
class CheckStepUp:
    """Check a step-up's code as :class:`~referrals.application.verify.Verify`
    checks a login's: charged first (one verification on the address, one
    wrong code on the phone), compared atomically, the charge given back
    for a right code. ``CodeInvalid``, ``ChallengeExpired`` or
    ``TooManyAttempts`` otherwise. The challenge stays live until
    :meth:`finish`, so an act that fails midway can be confirmed again."""

    policy: Policy
    challenges: ChallengeStore
    limiter: RateLimiter
    clock: Clock
    secret: bytes = field(repr=False)

    async def __call__(self, token: str, code: str, client_ip: str, bound: str) -> Confirmed:
        policy = self.policy
        typed = normalize_confirmation_code(code, policy.code_length)
        login = challenge_id(self.secret, token)
        alias = alias_of(login)
        ticket = secrets.token_hex(8)
        failures = await lockout.charge_verification(
            self.limiter, policy, alias, client_ip, self.clock.now(), ticket
        )
        if not alias:
            raise ChallengeExpired()
        digest = code_digest(self.secret, for_purpose(login, bound), typed)
        attempt = await self.challenges.attempt(login, digest, self.clock.now())
        if attempt.result is AttemptResult.WRONG:
            raise CodeInvalid(attempt.attempts_left)
        await rate_limits.refund(self.limiter, failures, ticket)  # no wrong code was given
        if attempt.result is AttemptResult.GONE or attempt.phone is None:
            raise ChallengeExpired()
        return Confirmed(login=login, phone=attempt.phone)

    async def finish(self, confirmed: Confirmed) -> bool:
        """End the step-up's challenge: ``True`` for exactly one caller."""
        return await self.challenges.consume(confirmed.login, self.clock.now())
