"""RevokeSessions: sign a user out everywhere, at once."""

from __future__ import annotations

from dataclasses import dataclass

from referrals.application.operations.lookup import find_user
from referrals.application.policy import Policy
from referrals.application.ports import Clock, SessionStore, UnitOfWorkFactory
from referrals.domain.user import User


@dataclass(frozen=True, slots=True)
class SessionsRevoked:
    user: User
    revoked: int


@dataclass(frozen=True, slots=True)
class RevokeSessions:
    """End every session of the user with a phone; the next request with any of
    their tokens gets 401."""

    policy: Policy
    unit_of_work: UnitOfWorkFactory
    sessions: SessionStore
    clock: Clock

    async def __call__(self, phone: str) -> SessionsRevoked:
        user = await find_user(self.policy, self.unit_of_work, phone)
        revoked = await self.sessions.revoke_user(user.id, self.clock.now())
        return SessionsRevoked(user=user, revoked=revoked)
