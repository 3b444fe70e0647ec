"""GetProfile: who a user is, whose code they applied, and who applied theirs."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from referrals.application.errors import NotAuthenticated
from referrals.application.policy import Policy
from referrals.application.ports import UnitOfWorkFactory
from referrals.domain.codes import InviteCode
from referrals.domain.errors import InvalidInput
from referrals.domain.integrity import APPLIED
from referrals.domain.phone import Phone
from referrals.domain.texts import N_
from referrals.domain.user import DELETED_USER, ERASED_MARK, Referral, User


def shown(phone: Phone) -> Phone:
    """A referral's phone as its referrer sees it: "deleted user" for a deleted account."""
    return Phone(DELETED_USER) if phone.startswith(ERASED_MARK) else phone


@dataclass(frozen=True, slots=True)
class Profile:
    id: int
    phone: Phone
    invite_code: InviteCode
    """The user's own code, to share."""
    used_invite_code: InviteCode | None
    """The code the user applied, if any."""
    referred_phones: tuple[Phone, ...]
    """One page of the users who applied ``invite_code``, oldest first."""
    referred_count: int
    """How many users applied ``invite_code``, all pages together."""
    next_cursor: str | None
    """Pass it back for the next page; ``None`` on the last page."""
    used_referral_status: str | None = None
    """``applied``, or ``pending_review`` while an operator has not approved
    it (docs/rules.md, "Referral integrity"); ``None`` without a code applied."""


def referral_status(user: User) -> str | None:
    """``applied`` or ``pending_review`` for a user with a referrer; else ``None``."""
    if user.referrer_id is None:
        return None
    return user.referral_status or APPLIED


def profile_of(user: User, page: list[Referral], size: int) -> Profile:
    """The profile of ``user`` with up to ``size`` of ``page`` (read with
    ``size + 1``: one more tells that there is a next page)."""
    more = len(page) > size
    page = page[:size]
    return Profile(
        id=user.id,
        phone=user.phone,
        invite_code=user.invite_code,
        used_invite_code=user.used_invite_code,
        referred_phones=tuple(shown(r.phone) for r in page),
        referred_count=user.referred_count,
        next_cursor=encode_cursor(page[-1].rank) if more else None,
        used_referral_status=referral_status(user),
    )


def encode_cursor(rank: int) -> str:
    return base64.urlsafe_b64encode(f"r{rank}".encode()).decode().rstrip("=")


MAX_RANK = 2**31 - 1
"""Ranks are 32-bit in the database; no cursor points past this."""
CURSOR_MAX_LENGTH = len(encode_cursor(MAX_RANK))
CURSOR_PATTERN = f"[A-Za-z0-9_-]{{{len(encode_cursor(1))},{CURSOR_MAX_LENGTH}}}"
"""Every cursor :func:`encode_cursor` gives out matches this (a regular
expression of the whole cursor; the OpenAPI document anchors it)."""


def decode_cursor(cursor: str) -> int:
    """The rank a cursor points after; ``InvalidInput`` for anything we did not
    issue (only the exact text :func:`encode_cursor` gives out is taken back)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    digits = raw[1:]
    # ASCII digits only: str.isdigit() also accepts "²" or Arabic-Indic digits.
    if raw[:1] != "r" or not (0 < len(digits) <= 10 and digits.isascii() and digits.isdigit()):
        raise InvalidInput("cursor", N_("Not a cursor this API gave out."))
    rank = int(digits)
    if rank > MAX_RANK or encode_cursor(rank) != cursor:
        raise InvalidInput("cursor", N_("Not a cursor this API gave out."))
    return rank


@dataclass(frozen=True, slots=True)
class GetProfile:
    """Read a user's profile with one page of the users who applied their code.

    Pages are keyed by referral rank, so a page costs the same whether the
    user has ten referrals or a million; ``referred_count`` is kept on
    the user's row for the same reason.
    """

    policy: Policy
    unit_of_work: UnitOfWorkFactory

    def page_size(self, limit: int | None) -> int:
        if limit is None:
            return self.policy.page_size
        if not 1 <= limit <= self.policy.max_page_size:
            raise InvalidInput(
                "limit", N_("limit must be between 1 and {max}."), max=self.policy.max_page_size
            )
        return limit

    async def __call__(
        self, user_id: int, cursor: str | None = None, limit: int | None = None
    ) -> Profile:
        size = self.page_size(limit)
        after = decode_cursor(cursor) if cursor else 0
        async with self.unit_of_work(read_only=True) as uow:
            found = await uow.users.profile(user_id, after, size + 1)
        if found is None or found[0].erased:  # a session outlived its user
            raise NotAuthenticated()
        return profile_of(*found, size)


@dataclass(frozen=True, slots=True)
class GetUser:
    """Read a signed-in user (for example, the one :class:`Authenticate` named)."""

    unit_of_work: UnitOfWorkFactory

    async def __call__(self, user_id: int) -> User:
        async with self.unit_of_work(read_only=True) as uow:
            user = await uow.users.get(user_id)
        if user is None or user.erased:  # a session outlived its user
            raise NotAuthenticated()
        return user
