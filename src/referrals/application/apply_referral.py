"""ApplyReferral: a user enters someone else's invite code, once."""

from __future__ import annotations

import asyncio
import random
import secrets
from dataclasses import dataclass, field

from referrals.application import outbox, rate_limits
from referrals.application.errors import (
    ConcurrencyConflict,
    NotAuthenticated,
    ServiceUnavailable,
)
from referrals.application.events import (
    Hooks,
    ReferralApplied,
    ReferralRefused,
)
from referrals.application.policy import Policy
from referrals.application.ports import Clock, Cooldowns, EventSink, RateLimiter, UnitOfWorkFactory
from referrals.application.profile import GetProfile, Profile
from referrals.domain.codes import InviteCode, normalize_invite_code, phone_alias
from referrals.domain.errors import (
    DomainError,
    OwnReferralCode,
    ReferralAlreadyApplied,
    ReferralCodeNotFound,
    ReferralCooldown,
    ReferralCycle,
)
from referrals.domain.user import User, ensure_can_apply

RULE_REFUSALS: tuple[type[DomainError], ...] = (
    ReferralCodeNotFound,
    ReferralAlreadyApplied,
    OwnReferralCode,
    ReferralCycle,
    ReferralCooldown,
)
"""The rules' refusals, which :class:`ReferralRefused` reports by their ``code``."""

CONFLICT_RETRIES = 8
"""Runs of the unit after losing a race, with jittered backoff, before giving up."""


@dataclass(frozen=True, slots=True)
class ApplyReferral:
    """Apply an invite code for a user and return their updated profile.

    The rules (exists, not own, once, no cycle of any length) are checked in
    one unit of work whose repository holds the user and the referrer chain
    until commit, so concurrent applications cannot both pass: of many by
    one user at most one succeeds, and of A↔B at most one. A lost race
    (``ConcurrencyConflict``) runs the unit again, where the winner's write
    is then visible.

    Unknown codes count toward a per-user limit (``apply_failure``): every
    application is charged one failure before the code is looked up, in one
    atomic step that refuses (``TooManyAttempts``) when the user's quota is
    full, and the charge is given back unless the code turns out unknown.
    So concurrent guesses never get more codes looked up than the limit.
    :class:`ReferralApplied` is written to the outbox in the same unit, and
    published to the hooks after the commit.
    """

    policy: Policy
    unit_of_work: UnitOfWorkFactory
    limiter: RateLimiter
    get_profile: GetProfile
    clock: Clock
    events: EventSink = field(default_factory=Hooks)
    """Where :class:`ReferralApplied` goes; no hooks by default."""
    cooldowns: Cooldowns | None = None
    """Numbers of deleted accounts: none of them applies a code until its
    cooldown ends (``ReferralCooldown``, docs/account.md); ``None``: no such rule."""
    secret: bytes = field(default=b"", repr=False)
    """The key of the phone aliases ``cooldowns`` keeps."""

    async def __call__(self, user_id: int, typed_code: str) -> Profile:
        async with rate_limits.ReportLimits(self.events, self.clock, "apply"):
            try:
                return await self._apply_code(user_id, typed_code)
            except RULE_REFUSALS as exc:
                event = ReferralRefused(at=self.clock.now(), user_id=user_id, reason=exc.code)
                await self.events.publish(event)
                raise

    async def _apply_code(self, user_id: int, typed_code: str) -> Profile:
        code = normalize_invite_code(typed_code)
        policy = self.policy
        failures = rate_limits.apply_failures(policy, user_id)
        ticket = secrets.token_hex(8)
        refusal = await self.limiter.acquire([failures], self.clock.now(), ticket)
        if refusal is not None:
            raise rate_limits.refusal_error(refusal)
        try:
            applied = await self._apply_with_retries(user_id, code)
        except ReferralCodeNotFound:
            raise  # the charge stays: an unknown code is what it counts
        except Exception:
            await rate_limits.refund(self.limiter, [failures], ticket)
            raise
        await self.events.publish(applied)
        _, profile = await asyncio.gather(
            rate_limits.refund(self.limiter, [failures], ticket), self.get_profile(user_id)
        )
        return profile

    async def _apply_with_retries(self, user_id: int, code: InviteCode) -> ReferralApplied:
        for attempt in range(CONFLICT_RETRIES):
            try:
                return await self._apply(user_id, code)
            except ConcurrencyConflict:
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise ServiceUnavailable("the database (too much contention)", retry_after=1)

    async def _apply(self, user_id: int, code: InviteCode) -> ReferralApplied:
        """Apply ``code`` in one unit of work, its event in the unit's outbox;
        the event, once committed."""
        async with self.unit_of_work() as uow:
            user = await uow.users.lock(user_id)
            if user is None:
                raise NotAuthenticated()
            await self._check_cooldown(user)
            owner = await uow.users.get_by_invite_code(code)
            if owner is not None and owner.erased:  # a deleted account's code is retired
                owner = None
            chain: list[int] = []
            if owner is not None and owner.id != user.id and user.referrer_id is None:
                chain = await uow.users.referrers_of(owner.id)
            referrer = ensure_can_apply(user, owner, chain)
            await uow.users.set_referrer(user, referrer)
            applied = ReferralApplied(
                at=self.clock.now(),
                user_id=user.id,
                referrer_id=referrer.id,
                invite_code=referrer.invite_code,
            )
            outbox.stage(uow, [applied])
            await uow.commit()
        return applied

    async def _check_cooldown(self, user: User) -> None:
        if self.cooldowns is None or user.referrer_id is not None:
            return
        alias = phone_alias(self.secret, user.phone)
        if await self.cooldowns.ends(alias, self.clock.now()) is not None:
            raise ReferralCooldown()
