"""Changing one's phone number in two steps, as a login (``docs/account.md``).

The first step sends a code to the new number under the same sending limits
as a login and answers as a login does, whether or not the number belongs
to someone: only the confirmation tells (``PhoneTaken``). The user keeps
their id, invite code, referrer and referrals; their other sessions end.
The row takes the new number's re-registration cooldown end (none if none
runs), which applying a code checks.
A session older than ``Policy.step_up_age`` must sign in again first
(``StepUpRequired``): a fresh code to the current number.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field

from referrals.application import outbox
from referrals.application.errors import ConcurrencyConflict, NotAuthenticated, ServiceUnavailable
from referrals.application.events import Hooks, PhoneChanged
from referrals.application.own_sessions import RevokeOtherSessions
from referrals.application.policy import Policy
from referrals.application.ports import (
    Clock,
    Cooldowns,
    EventSink,
    SessionStore,
    UnitOfWorkFactory,
)
from referrals.application.profile import GetProfile, Profile
from referrals.application.request_code import CodeRequest, CodeRequested, RequestCode
from referrals.application.step_up import CheckStepUp, purpose
from referrals.domain.codes import alias_of, token_digest
from referrals.domain.errors import ChallengeExpired, PhoneTaken, StepUpRequired
from referrals.domain.phone import Phone, masked

log = logging.getLogger("referrals.account")

ACT = "phone"
RETRIES = 8


@dataclass(frozen=True, slots=True)
class RequestPhoneChange:
    """The first step: a code to the new number, answered as a login is."""

    policy: Policy
    sessions: SessionStore
    clock: Clock
    request_code: RequestCode

    async def __call__(
        self, user_id: int, token: str | None, phone: str, client_ip: str, language: str | None
    ) -> CodeRequested:
        now = self.clock.now()
        current = token_digest(token) if token else ""
        live = await self.sessions.of_user(user_id, now)
        mine = next((s for s in live if s.session_id == current), None)
        if mine is None:
            raise NotAuthenticated()
        if now - mine.created_at > self.policy.step_up_age:
            raise StepUpRequired()
        bound = purpose(ACT, user_id)
        return await self.request_code(CodeRequest(phone, client_ip, language, bound))


@dataclass(frozen=True, slots=True)
class ConfirmPhoneChange:
    """The second step: the new number's code moves the account to it."""

    check: CheckStepUp
    unit_of_work: UnitOfWorkFactory
    revoke_others: RevokeOtherSessions
    get_profile: GetProfile
    clock: Clock
    events: EventSink = field(default_factory=Hooks)
    cooldowns: Cooldowns | None = None
    """Numbers of deleted accounts: a user moved to one carries its cooldown
    end on their row, as a user created on it does (``ReferralCooldown``);
    ``None``: no such rule."""

    async def __call__(
        self, user_id: int, token: str | None, change: str, code: str, client_ip: str
    ) -> Profile:
        confirmed = await self.check(change, code, client_ip, purpose(ACT, user_id))
        until = None
        if self.cooldowns is not None:
            until = await self.cooldowns.ends(alias_of(confirmed.login), self.clock.now())
        changed = await self._move(user_id, confirmed.phone, until)
        if not await self.check.finish(confirmed):
            raise ChallengeExpired()  # another confirmation of this change got there first
        log.info(
            "user %d changed their phone: %s -> %s",
            user_id,
            masked(changed.old_phone),
            masked(changed.new_phone),
        )
        await self.revoke_others(user_id, token)
        await self.events.publish(changed)
        return await self.get_profile(user_id)

    async def _move(self, user_id: int, phone: Phone, cooldown_until: float | None) -> PhoneChanged:
        for attempt in range(RETRIES):
            try:
                async with self.unit_of_work() as uow:
                    before = await uow.users.change_phone(user_id, phone, cooldown_until)
                    if before is None:
                        if await uow.users.get(user_id) is None:
                            raise NotAuthenticated()
                        raise PhoneTaken()
                    changed = PhoneChanged(
                        at=self.clock.now(),
                        user_id=user_id,
                        old_phone=before.phone,
                        new_phone=phone,
                    )
                    outbox.stage(uow, [changed])
                    await uow.commit()
                    return changed
            except ConcurrencyConflict:
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise ServiceUnavailable("the database (too much contention)", retry_after=1)
