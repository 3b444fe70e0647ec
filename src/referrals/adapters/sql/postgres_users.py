"""The user repository on PostgreSQL: the chain's root locked ``FOR KEY
SHARE NOWAIT``, a profile in one read, and an application of an invite code
in one statement (``apply_statement.py``) that answers how it went."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from referrals.adapters.sql.apply_statement import APPLIED
from referrals.adapters.sql.repository import Row, SqlUserRepository, user_of
from referrals.adapters.sql.statements import UserRow
from referrals.application.errors import ConcurrencyConflict
from referrals.application.ports import Referral
from referrals.domain.codes import InviteCode
from referrals.domain.errors import (
    DomainError,
    OwnReferralCode,
    ReferralAlreadyApplied,
    ReferralCodeNotFound,
    ReferralCooldown,
    ReferralCycle,
    SuspectedSelfReferral,
)
from referrals.domain.integrity import (
    SAME_DEVICE,
    SAME_NETWORK,
    SIGNALS,
    Action,
    Screening,
    strictness,
)
from referrals.domain.phone import Phone
from referrals.domain.user import AppliedCode, User


def profile_of(rows: list[Row]) -> tuple[User, list[Referral]] | None:
    """A user and a page of their referrals from the rows of a statement that
    joins the two (``profile``, ``get_or_add``); ``None`` for no rows."""
    if not rows:
        return None
    page = [
        Referral(rank, Phone(phone))
        for *_user, rank, phone in rows
        if rank is not None  # the user without referrals: one row, no page
    ]
    *user, _rank, _phone = rows[0]
    return user_of(user), page


def screening_values(screening: Screening) -> dict[str, Any]:
    """The bind values of ``apply_code``'s signals (see ``apply_statement.py``)."""
    values: dict[str, Any] = {
        "read_logins": screening.since is not None,
        "network": screening.network,
        "device": screening.device,
        "since": screening.since or 0.0,
    }
    for signal in SIGNALS:
        values[f"known_{signal}"] = signal in screening.flagged
        values[f"rank_{signal}"] = strictness(screening.policy.get(signal, Action.HOLD))
    return values


REFUSALS: dict[str, type[DomainError]] = {
    refusal.code: refusal
    for refusal in (
        ReferralAlreadyApplied,
        ReferralCodeNotFound,
        OwnReferralCode,
        ReferralCycle,
        ReferralCooldown,
    )
}
"""The rules' refusals by the status ``apply_code`` answers."""


class PostgresUserRepository(SqlUserRepository):
    """Users in PostgreSQL: the chain's root locked, a profile in one read."""

    dialect = "postgresql"

    async def _is_still_root(self, user_id: int) -> bool:
        # FOR KEY SHARE NOWAIT: a root another unit is linking fails at once
        # (that unit is retried), and one that stays a root cannot gain a
        # referrer until this unit ends (see repository.py).
        root = await self._execute.one(self._sql.lock_root, user_id=user_id)
        return root is None or root[0] is None

    async def profile(
        self, user_id: int, after_rank: int, limit: int
    ) -> tuple[User, list[Referral]] | None:
        rows = await self._execute.all(
            self._sql.profile, user_id=user_id, after=after_rank, limit=limit
        )
        return profile_of(rows)

    async def get_or_add(
        self,
        phone: Phone,
        invite_code: InviteCode,
        created_by: str,
        limit: int,
        cooldown_until: float | None = None,
    ) -> tuple[User, list[Referral]] | None:
        rows = await self._execute.all(
            self._sql.get_or_add,
            phone=str(phone),
            code=str(invite_code),
            created_by=created_by,
            cooldown_until=cooldown_until,
            after=0,
            limit=limit,
        )
        return profile_of(rows)

    async def apply_code(
        self,
        user_id: int,
        code: InviteCode,
        limit: int,
        screening: Screening | None = None,
        now: float | None = None,
    ) -> AppliedCode:
        screening = screening or Screening()
        rows = await self._execute.all(
            self._sql.apply_code,
            user_id=user_id,
            code=str(code),
            limit=limit,
            now=now,
            **screening_values(screening),
        )
        status, *columns = rows[0]  # the statement answers one row at least
        width = len(UserRow._fields)
        owner, user, linked = (columns[i * width : (i + 1) * width] for i in range(3))
        network, device = columns[3 * width : 3 * width + 2]
        signals, action = screening.decided([SAME_NETWORK] * network + [SAME_DEVICE] * device)
        if status == "no_user":
            return AppliedCode(None, None, None, [])
        if status == "moved" or (status == APPLIED and linked[0] is None):
            raise ConcurrencyConflict()  # the chain grew since the statement began
        if status == SuspectedSelfReferral.code:
            refused = SuspectedSelfReferral(signals)
            return AppliedCode(user_of(user), None, refused, [], signals, action)
        if status != APPLIED:
            return AppliedCode(user_of(user), None, REFUSALS[status](), [])
        page = [Referral(rank, Phone(phone)) for *_, rank, phone in rows if rank is not None]
        return AppliedCode(user_of(linked), user_of(owner), None, page, signals, action)

    def _moment(self, at: datetime) -> datetime:
        return at  # timestamptz
