"""ExportData: everything we hold about the caller, in one answer (``docs/account.md``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from referrals.application.errors import NotAuthenticated
from referrals.application.own_sessions import ListSessions, OwnSession
from referrals.application.ports import Clock, DeliveryLog, UnitOfWorkFactory
from referrals.application.profile import shown
from referrals.domain.codes import phone_alias
from referrals.domain.delivery import DeliveryRecord
from referrals.domain.logins import LoginRecord
from referrals.domain.phone import Phone
from referrals.domain.user import User

PAGE = 1_000
"""Referrals read per round trip while the export gathers them all."""
RECENT_LOGINS = 100
"""At most so many code deliveries (they are kept a day by default)."""
HISTORY_MAX = 1_000
"""At most so many logins of the login history, the newest (kept 90 days by default)."""


@dataclass(frozen=True, slots=True)
class Export:
    """The caller's data: their account, sessions, login history and consents."""

    user: User
    referrer_invite_code: str | None
    """The invite code of whoever referred them (also ``user.used_invite_code``)."""
    referred_phones: tuple[Phone, ...]
    """Everyone who applied their code, oldest first ("deleted user" for deleted accounts)."""
    sessions: tuple[OwnSession, ...]
    logins: tuple[DeliveryRecord, ...]
    """Their logins still kept (``REFERRALS_DELIVERY_HISTORY``), newest first."""
    history: tuple[LoginRecord, ...] = ()
    """Their successful logins still kept (``REFERRALS_HISTORY_KEEP``), newest first."""
    consents: tuple[str, ...] = ()
    """None are collected today."""


@dataclass(frozen=True, slots=True)
class ExportData:
    """Gather :class:`Export` for a signed-in user."""

    unit_of_work: UnitOfWorkFactory
    list_sessions: ListSessions
    delivery_log: DeliveryLog
    clock: Clock
    history_keep: float
    """``REFERRALS_HISTORY_KEEP``: older logins may still await their purge; not shown."""
    secret: bytes = field(repr=False)

    async def __call__(self, user_id: int, token: str | None = None) -> Export:
        """``token``: the calling session's, marked ``current`` in the list."""
        async with self.unit_of_work(read_only=True) as uow:
            found = await uow.users.profile(user_id, 0, PAGE)
            if found is None or found[0].erased:
                raise NotAuthenticated()
            user, page = found
            referred = [shown(r.phone) for r in page]
            while len(page) == PAGE:
                more = await uow.users.profile(user_id, page[-1].rank, PAGE)
                page = more[1] if more is not None else []
                referred += [shown(r.phone) for r in page]
            since = self.clock.now() - self.history_keep
            history = await uow.users.logins(user_id, since, HISTORY_MAX)
        sessions = await self.list_sessions(user_id, token)
        alias = phone_alias(self.secret, user.phone)
        logins = await self.delivery_log.recent(alias, RECENT_LOGINS)
        return Export(
            user=user,
            referrer_invite_code=user.used_invite_code,
            referred_phones=tuple(referred),
            sessions=tuple(sessions),
            logins=tuple(logins),
            history=tuple(history),
        )
