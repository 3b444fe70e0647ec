"""ReviewReferrals: an operator's look at held referrals (docs/rules.md,
"Referral integrity"): list them with their signals, approve or void one."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from referrals.application import outbox
from referrals.application.events import Event, Hooks, ReferralApplied, ReferralDecided
from referrals.application.operations.lookup import UserNotFound
from referrals.application.ports import Clock, EventSink, UnitOfWorkFactory
from referrals.domain.codes import InviteCode
from referrals.domain.user import User

log = logging.getLogger("referrals.referrals")

REVIEW_PAGE = 100
"""Held referrals listed at once, unless the operator asks for another count."""


@dataclass(frozen=True, slots=True)
class ReviewReferrals:
    """List, approve and void held referrals; each is keyed by the id of the
    user who applied the code.

    Approving applies the referral now: the owner counts it (ranked last
    among theirs) and :class:`ReferralApplied` (with the signals it was held
    for) is written to the outbox in the same unit of work. Voiding removes
    it: the user has no referrer and may apply a code again (the signals
    are forgotten with it). Either is published as :class:`ReferralDecided`
    and logged. A user whose referral is not held: :class:`UserNotFound`.
    """

    unit_of_work: UnitOfWorkFactory
    clock: Clock
    events: EventSink = field(default_factory=Hooks)

    async def held(self, after: int = 0, limit: int = REVIEW_PAGE) -> list[User]:
        """Held referrals by user id above ``after``, the oldest users first."""
        async with self.unit_of_work(read_only=True) as uow:
            return await uow.users.held_referrals(after, limit)

    async def approve(self, user_id: int) -> User:
        """Apply a held referral; the user as it was held."""
        async with self.unit_of_work() as uow:
            user = await uow.users.approve_referral(user_id)
            if user is None or user.referrer_id is None or user.used_invite_code is None:
                raise UserNotFound(f"id {user_id} with a held referral")
            applied = ReferralApplied(
                at=self.clock.now(),
                user_id=user.id,
                referrer_id=user.referrer_id,
                invite_code=user.used_invite_code,
                signals=user.referral_signals,
            )
            outbox.stage(uow, [applied])
            await uow.commit()
        await self._publish(user, "approved", applied)
        return user

    async def void(self, user_id: int) -> User:
        """Remove a held referral; the user as it was held."""
        async with self.unit_of_work() as uow:
            user = await uow.users.void_referral(user_id)
            if user is None:
                raise UserNotFound(f"id {user_id} with a held referral")
            await uow.commit()
        await self._publish(user, "voided")
        return user

    async def _publish(self, user: User, decision: str, *then: Event) -> None:
        signals = user.referral_signals
        log.info(
            "referral of user %d %s by an operator (signals: %s)",
            user.id,
            decision,
            ",".join(signals) or "none",
        )
        code = user.used_invite_code or InviteCode("")
        decided = ReferralDecided(
            at=self.clock.now(),
            user_id=user.id,
            invite_code=code,
            decision=decision,
            signals=signals,
        )
        for event in (decided, *then):
            await self.events.publish(event)
