"""The user repository on SQLAlchemy Core, and how it makes referrals race-free.

Concurrency scheme for applying invite codes (PostgreSQL, READ COMMITTED):

* the applying user's row is locked ``FOR UPDATE`` (:meth:`lock`), so of
  many concurrent applications by one user, one runs at a time and the
  others then see ``referrer_id`` already set;
* the cycle check walks the referrer chain above the code's owner. A
  user's referrer is written once and never changed, so the only link of
  that chain that can still change is its top (the root, whose referrer is
  still empty). :meth:`referrers_of` locks the root ``FOR KEY SHARE
  NOWAIT`` and re-reads it, which freezes the whole chain until commit.
  If A applies B's code while B applies A's (or any longer cycle closes at
  once), each needs the other's root, which the other holds ``FOR UPDATE``:
  the ``NOWAIT`` fails at once, that unit is retried, and on the retry it
  sees the winner's link and refuses the cycle;
* an operator voiding a held referral (:meth:`void_referral`) clears a
  link below the top: removing a link closes no cycle, so a concurrent
  check that still saw it can only refuse, never let one through;
* ``FOR KEY SHARE`` does not conflict with the ``referred_count`` updates
  other applications make, so a popular referrer is never a global lock.

SERIALIZABLE would also be correct, but every application to a popular
referrer would then abort and retry on its counter; locks make them wait
in line instead. SQLite serialises writing units with ``BEGIN IMMEDIATE``.

On PostgreSQL ``apply_code`` takes these same locks in one statement
(``apply_statement.py``): the user's row ``FOR UPDATE`` answers its latest
version, and a root found linked once locked (the chain grew since the
statement's snapshot) answers ``moved``, a lost race, so the unit runs
again. The other dialects run the steps above one by one
(``application/applying.py``).

Each statement is one of ``statements.py``, compiled for the driver and run
by the unit of work's :class:`Executor` under its time limit. What differs
between the dialects (the root's lock, the profile's reads, how timestamps
are kept, the one-statement apply) is each dialect's own subclass, in
``postgres_users.py`` and ``sqlite.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from referrals.adapters import tracing
from referrals.adapters.sql.compiled import Compiled
from referrals.adapters.sql.statements import Statements, UserRow
from referrals.application.applying import apply_in_steps
from referrals.application.errors import ConcurrencyConflict
from referrals.application.ports import Referral, Totals
from referrals.domain.codes import InviteCode
from referrals.domain.integrity import PENDING_REVIEW, Screening
from referrals.domain.logins import LoginRecord
from referrals.domain.phone import Phone
from referrals.domain.user import AppliedCode, User, erased_phone

Row = Sequence[Any]
CONFLICT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "23505"})
"""PostgreSQL's lost races (serialization_failure, deadlock_detected,
lock_not_available, unique_violation): ``ConcurrencyConflict``, and the unit
runs again. Every INSERT skips conflicts (``ON CONFLICT DO NOTHING``), so a
unique violation is a phone change that raced another write of the same
number: its next run sees the winner."""


class Executor(Protocol):
    """Runs compiled statements on the unit of work's connection."""

    async def one(self, statement: Compiled, **values: Any) -> Row | None:
        """The first row, or None."""
        ...

    async def all(self, statement: Compiled, **values: Any) -> list[Row]: ...

    async def rowcount(self, statement: Compiled, **values: Any) -> int:
        """Rows the statement changed."""
        ...


def user_of(row: Row) -> User:
    """A user from a row of :class:`~referrals.adapters.sql.statements.UserRow`'s columns."""
    columns = UserRow._make(row)
    used = columns.used_invite_code
    return User(
        id=columns.id,
        phone=Phone(columns.phone),
        invite_code=InviteCode(columns.invite_code),
        referrer_id=columns.referrer_id,
        used_invite_code=InviteCode(used) if used else None,
        referred_count=columns.referred_count,
        created_by=columns.created_by,
        referral_status=columns.referral_status,
        referral_signals=tuple(filter(None, (columns.referral_signals or "").split(","))),
        cooldown_until=columns.cooldown_until,
    )


class SqlUserRepository(ABC):
    """The users on one unit of work's connection; each dialect's subclass
    (``postgres.py``, ``sqlite.py``) adds what only it does."""

    dialect: ClassVar[str]
    """``postgresql`` or ``sqlite``: the tracing spans' ``db.system``."""

    def __init__(self, execute: Executor, statements: Statements) -> None:
        if tracing.active():  # a span per statement; nothing in between otherwise
            execute = tracing.TracedExecutor(execute, self.dialect)
        self._execute = execute
        self._sql = statements

    async def _one(self, statement: Compiled, **values: Any) -> User | None:
        row = await self._execute.one(statement, **values)
        return None if row is None else user_of(row)

    async def get(self, user_id: int) -> User | None:
        return await self._one(self._sql.user_by_id, user_id=user_id)

    async def get_by_phone(self, phone: Phone) -> User | None:
        return await self._one(self._sql.user_by_phone, phone=str(phone))

    async def get_by_invite_code(self, code: InviteCode) -> User | None:
        return await self._one(self._sql.user_by_code, code=str(code))

    async def add(
        self,
        phone: Phone,
        invite_code: InviteCode,
        created_by: str,
        cooldown_until: float | None = None,
    ) -> User | None:
        return await self._one(
            self._sql.add_user,
            phone=str(phone),
            code=str(invite_code),
            created_by=created_by,
            cooldown_until=cooldown_until,
        )

    async def get_or_add(
        self,
        phone: Phone,
        invite_code: InviteCode,
        created_by: str,
        limit: int,
        cooldown_until: float | None = None,
    ) -> tuple[User, list[Referral]] | None:
        # Step by step (SQLite: in-process, nothing to save); PostgreSQL
        # overrides it with one statement.
        user = await self.get_by_phone(phone)
        if user is not None:
            return user, await self._referrals_page(user.id, 0, limit)
        user = await self.add(phone, invite_code, created_by, cooldown_until)
        return None if user is None else (user, [])

    async def change_phone(
        self, user_id: int, phone: Phone, cooldown_until: float | None = None
    ) -> User | None:
        user = await self.lock(user_id)
        if user is None or user.erased or await self.get_by_phone(phone) is not None:
            return None
        await self._execute.rowcount(
            self._sql.set_phone, user_id=user_id, phone=str(phone), cooldown_until=cooldown_until
        )
        return user

    async def erase(self, user_id: int) -> User | None:
        user = await self.lock(user_id)
        if user is None or user.erased:
            return None
        phone = str(erased_phone(user_id))
        await self._execute.rowcount(
            self._sql.set_phone, user_id=user_id, phone=phone, cooldown_until=None
        )
        await self._execute.rowcount(self._sql.forget_events, user_id=user_id)
        await self._execute.rowcount(self._sql.forget_logins, user_id=user_id)
        return user

    async def logins(self, user_id: int, since: float, limit: int) -> list[LoginRecord]:
        rows = await self._execute.all(
            self._sql.recent_logins, user_id=user_id, since=since, limit=limit
        )
        return [LoginRecord(*row) for row in rows]

    async def purge_logins(self, before: float, limit: int) -> int:
        return await self._execute.rowcount(self._sql.purge_logins, before=before, limit=limit)

    async def apply_code(
        self,
        user_id: int,
        code: InviteCode,
        limit: int,
        screening: Screening | None = None,
        now: float | None = None,
    ) -> AppliedCode:
        # Step by step; PostgreSQL overrides it with one statement.
        return await apply_in_steps(self, user_id, code, limit, screening, now)

    async def lock(self, user_id: int) -> User | None:
        return await self._one(self._sql.lock_user, user_id=user_id)

    async def referrers_of(self, user_id: int) -> list[int]:
        chain: list[int] = []
        top = user_id
        while True:
            chain.extend(await self._chain_above(top))
            top = chain[-1] if chain else user_id
            if await self._is_still_root(top):
                return chain

    @abstractmethod
    async def _is_still_root(self, user_id: int) -> bool:
        """Whether ``user_id`` still has no referrer, held so until the unit
        ends (then the chain below it cannot change either)."""

    async def _chain_above(self, user_id: int) -> list[int]:
        rows = await self._execute.all(self._sql.referrer_chain, user_id=user_id)
        links = {row_id: referrer_id for row_id, referrer_id, *_ in rows}
        above: list[int] = []
        current = links.get(user_id)
        while current is not None and current not in above:
            above.append(current)
            current = links.get(current)
        return above

    async def set_referrer(
        self, user: User, referrer: User, *, signals: Sequence[str] = (), held: bool = False
    ) -> None:
        # A held referral takes no place among the referrer's: it is ranked
        # -id (unique, below every page) and counted only when approved.
        rank = -user.id if held else await self._count_referral(referrer.id)
        linked = await self._execute.rowcount(
            self._sql.link_referrer,
            user_id=user.id,
            owner_id=referrer.id,
            code=str(referrer.invite_code),
            rank=rank,
            status=PENDING_REVIEW if held else None,
            signals=",".join(signals) or None,
        )
        if linked != 1:  # the caller's lock should make this impossible
            raise ConcurrencyConflict()

    async def _count_referral(self, owner_id: int) -> int:
        counted = await self._execute.one(self._sql.count_referral, owner_id=owner_id)
        if counted is None:  # the referrer's row is gone: cannot happen while users are kept
            raise ConcurrencyConflict()
        rank: int = counted[0]
        return rank

    async def shared_logins(
        self, user_id: int, code: InviteCode, network: str, device: str, since: float
    ) -> tuple[bool, bool]:
        row = await self._execute.one(
            self._sql.shared_logins,
            user_id=user_id,
            code=str(code),
            network=network,
            device=device,
            since=since,
        )
        return (False, False) if row is None else (bool(row[0]), bool(row[1]))

    async def held_referrals(self, after: int, limit: int) -> list[User]:
        rows = await self._execute.all(self._sql.held_referrals, after=after, limit=limit)
        return [user_of(row) for row in rows]

    async def approve_referral(self, user_id: int) -> User | None:
        user = await self.lock(user_id)
        if user is None or user.referrer_id is None or not user.referral_held:
            return None
        rank = await self._count_referral(user.referrer_id)
        await self._execute.rowcount(self._sql.approve_referral, user_id=user_id, rank=rank)
        return user

    async def void_referral(self, user_id: int) -> User | None:
        user = await self.lock(user_id)
        if user is None or not user.referral_held:
            return None
        await self._execute.rowcount(self._sql.void_referral, user_id=user_id)
        return user

    @abstractmethod
    async def profile(
        self, user_id: int, after_rank: int, limit: int
    ) -> tuple[User, list[Referral]] | None: ...

    async def _referrals_page(self, user_id: int, after_rank: int, limit: int) -> list[Referral]:
        rows = await self._execute.all(
            self._sql.referrals_page, user_id=user_id, after=after_rank, limit=limit
        )
        return [Referral(rank, Phone(phone)) for _referrer, rank, phone in rows]

    async def chain_above(self, user_id: int) -> list[User]:
        rows = await self._execute.all(self._sql.chain_users, user_id=user_id)
        by_id = {user.id: user for user in map(user_of, rows)}
        chain: list[User] = []
        current = by_id[user_id].referrer_id if user_id in by_id else None
        while current is not None and current in by_id and by_id[current] not in chain:
            chain.append(by_id[current])
            current = by_id[current].referrer_id
        return chain

    @abstractmethod
    def _moment(self, at: datetime) -> datetime:
        """``at`` (UTC) as the dialect keeps timestamps, to compare with them."""

    async def totals(self, since: float, top: int) -> Totals:
        counts = await self._execute.one(
            self._sql.count_users, since=self._moment(datetime.fromtimestamp(since, UTC))
        )
        if counts is None:  # an aggregate always answers one row
            raise RuntimeError("COUNT answered no row")
        users, users_since, referrals, referrals_since = counts
        rows = await self._execute.all(self._sql.top_referrers, top=top)
        return Totals(
            users=users,
            users_since=users_since,
            referrals=referrals,
            referrals_since=referrals_since,
            top_referrers=[user_of(row) for row in rows],
        )
