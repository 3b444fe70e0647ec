"""Verify: check a one-time code, create the user on first login, open a session."""

from __future__ import annotations

from dataclasses import dataclass, field

from referrals.application import rate_limits
from referrals.application.policy import Policy
from referrals.application.ports import (
    ChallengeStore,
    Clock,
    RateLimiter,
    SessionStore,
    UnitOfWorkFactory,
)
from referrals.application.profile import GetProfile, Profile, new_profile
from referrals.application.sessions import Session, open_session
from referrals.domain.challenge import AttemptResult
from referrals.domain.codes import (
    code_digest,
    generate_invite_code,
    normalize_confirmation_code,
    token_digest,
)
from referrals.domain.errors import ChallengeExpired, CodeInvalid
from referrals.domain.phone import Phone
from referrals.domain.user import User

INVITE_CODE_DRAWS = 8
"""Fresh invite codes tried before giving up (32**6 ≈ 10**9 codes: collisions are rare)."""


@dataclass(frozen=True, slots=True)
class VerifyCode:
    token: str
    code: str
    client_ip: str


@dataclass(frozen=True, slots=True)
class Verified:
    session: Session
    is_new_user: bool
    profile: Profile


@dataclass(frozen=True, slots=True)
class Verify:
    """Exchange a challenge token and its code for a session.

    Order of effects, on purpose: the code is checked atomically (wrong codes
    are counted and burn the challenge at the limit), then the user is
    fetched or created idempotently, then a session is opened, and last the
    challenge is consumed: only the one caller that consumed it keeps its
    session (the others' are revoked at once). If the database or the session
    store is down, the challenge is still live, so the same code works once
    it is back.
    """

    policy: Policy
    challenges: ChallengeStore
    limiter: RateLimiter
    uow: UnitOfWorkFactory
    sessions: SessionStore
    profiles: GetProfile
    clock: Clock
    secret: bytes = field(repr=False)

    async def __call__(self, command: VerifyCode) -> Verified:
        policy = self.policy
        code = normalize_confirmation_code(command.code, policy.code_length)
        challenge_id = token_digest(command.token)
        now = self.clock.now()
        challenge = await self.challenges.get(challenge_id, now)
        quotas = [rate_limits.ip_verify(policy, command.client_ip)]
        if challenge is not None:
            quotas.append(rate_limits.phone_failure(policy, challenge.phone, count=False))
        refusal = await self.limiter.acquire(quotas, now)
        if refusal is not None:
            raise rate_limits.refusal_error(refusal)
        if challenge is None:
            raise ChallengeExpired()

        digest = code_digest(self.secret, challenge_id, code)
        attempt = await self.challenges.attempt(challenge_id, digest, now)
        if attempt.result is AttemptResult.GONE:
            raise ChallengeExpired()
        if attempt.result is AttemptResult.WRONG:
            failure = rate_limits.phone_failure(policy, challenge.phone, count=True)
            await self.limiter.acquire([failure], now)
            raise CodeInvalid(attempt.attempts_left)

        user, created = await self._get_or_create(challenge.phone)
        session = await open_session(self.sessions, self.clock, user.id, policy.session_ttl)
        if not await self.challenges.consume(challenge_id, self.clock.now()):
            await self.sessions.revoke(token_digest(session.token))
            raise ChallengeExpired()
        profile = new_profile(user) if created else await self.profiles(user.id)
        return Verified(session=session, is_new_user=created, profile=profile)

    async def _get_or_create(self, phone: Phone) -> tuple[User, bool]:
        async with self.uow(read_only=True) as uow:  # most logins are returning users
            user = await uow.users.get_by_phone(phone)
        if user is not None:
            return user, False
        for _ in range(INVITE_CODE_DRAWS):
            async with self.uow() as uow:
                user = await uow.users.get_by_phone(phone)
                if user is not None:
                    return user, False
                user = await uow.users.add(phone, generate_invite_code())
                if user is not None:
                    await uow.commit()
                    return user, True
            # A concurrent login created this phone, or the invite code was
            # taken: the next round finds the user or draws a new code.
        raise RuntimeError("could not draw a free invite code")
