"""ListReferred: who applied a user's invite code, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from referrals.application.operations.lookup import find_user
from referrals.application.policy import Policy
from referrals.application.ports import UnitOfWorkFactory
from referrals.application.profile import GetProfile
from referrals.domain.phone import Phone
from referrals.domain.user import User


@dataclass(frozen=True, slots=True)
class ReferredPage:
    owner: User
    phones: tuple[Phone, ...]
    """Oldest first."""
    next_cursor: str | None
    """Pass it back for the next page; ``None`` on the last one."""


@dataclass(frozen=True, slots=True)
class ListReferred:
    """The users who applied the invite code of the user named by phone or
    code; pages and cursors as in the profile (same limits)."""

    policy: Policy
    unit_of_work: UnitOfWorkFactory
    get_profile: GetProfile

    async def __call__(
        self, phone_or_code: str, cursor: str | None = None, limit: int | None = None
    ) -> ReferredPage:
        owner = await find_user(self.policy, self.unit_of_work, phone_or_code, by_code=True)
        profile = await self.get_profile(owner.id, cursor, limit)
        return ReferredPage(owner, profile.referred_phones, profile.next_cursor)
