"""GetProfile: who a user is, whose code they applied, and who applied theirs."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from referrals.application.errors import NotAuthenticated
from referrals.application.policy import Policy
from referrals.application.ports import UnitOfWorkFactory
from referrals.domain.errors import InvalidInput
from referrals.domain.phone import Phone
from referrals.domain.user import User


@dataclass(frozen=True, slots=True)
class Profile:
    id: int
    phone: Phone
    used_referral_code: str | None
    invite_referral_code: str
    referred_users: tuple[Phone, ...]
    referred_users_count: int
    next_cursor: str | None


def new_profile(user: User) -> Profile:
    """The profile of a user created just now: nobody has applied their code yet."""
    return Profile(
        id=user.id,
        phone=user.phone,
        used_referral_code=None,
        invite_referral_code=user.invite_code,
        referred_users=(),
        referred_users_count=0,
        next_cursor=None,
    )


def encode_cursor(rank: int) -> str:
    return base64.urlsafe_b64encode(f"r{rank}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The rank a cursor points after; ``InvalidInput`` for anything we did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if len(raw) < 2 or raw[0] != "r" or not raw[1:].isdigit() or len(raw) > 20:
        raise InvalidInput("cursor", "Not a cursor this API gave out.")
    return int(raw[1:])


@dataclass(frozen=True, slots=True)
class GetProfile:
    """Read a user's profile with one page of the users who applied their code.

    Pages are keyed by referral rank, so a page costs the same whether the
    user has ten referrals or a million; ``referred_users_count`` is kept on
    the user's row for the same reason.
    """

    policy: Policy
    uow: UnitOfWorkFactory

    def page_size(self, limit: int | None) -> int:
        if limit is None:
            return self.policy.page_size
        if not 1 <= limit <= self.policy.max_page_size:
            raise InvalidInput("limit", f"limit must be between 1 and {self.policy.max_page_size}.")
        return limit

    async def __call__(
        self, user_id: int, cursor: str | None = None, limit: int | None = None
    ) -> Profile:
        size = self.page_size(limit)
        after = decode_cursor(cursor) if cursor else 0
        async with self.uow(read_only=True) as uow:
            found = await uow.users.profile(user_id, after, size + 1)
        if found is None:
            raise NotAuthenticated()
        user, page = found
        more = len(page) > size
        page = page[:size]
        return Profile(
            id=user.id,
            phone=user.phone,
            used_referral_code=user.used_invite_code,
            invite_referral_code=user.invite_code,
            referred_users=tuple(r.phone for r in page),
            referred_users_count=user.referred_count,
            next_cursor=encode_cursor(page[-1].rank) if more else None,
        )
