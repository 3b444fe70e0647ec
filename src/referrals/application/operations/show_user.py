"""ShowUser: everything an operator needs to know about one user."""

from __future__ import annotations

from dataclasses import dataclass

from referrals.application.operations.lookup import find_user
from referrals.application.policy import Policy
from referrals.application.ports import Clock, SessionStore, UnitOfWorkFactory
from referrals.domain.sessions import SessionInfo
from referrals.domain.user import User


@dataclass(frozen=True, slots=True)
class UserReport:
    user: User
    referrers: list[User]
    """Whose code the user applied, whose code that one applied, … up to the root."""
    sessions: list[SessionInfo]
    """The user's live sessions, soonest to expire first (never their tokens)."""


@dataclass(frozen=True, slots=True)
class ShowUser:
    """The user with a phone: profile, referrer chain, referral count, sessions."""

    policy: Policy
    unit_of_work: UnitOfWorkFactory
    sessions: SessionStore
    clock: Clock

    async def __call__(self, phone: str) -> UserReport:
        user = await find_user(self.policy, self.unit_of_work, phone)
        async with self.unit_of_work(read_only=True) as uow:
            referrers = await uow.users.chain_above(user.id)
        sessions = await self.sessions.of_user(user.id, self.clock.now())
        return UserReport(user=user, referrers=referrers, sessions=sessions)
