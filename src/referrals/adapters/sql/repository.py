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
* ``FOR KEY SHARE`` does not conflict with the ``referred_count`` updates
  other applications make, so a popular referrer is never a global lock.

SERIALIZABLE would also be correct, but every application to a popular
referrer would then abort and retry on its counter; locks make them wait
in line instead. SQLite serialises writing units with ``BEGIN IMMEDIATE``.

Each statement runs under the unit's time limit (see ``uow.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVarTuple, overload

from sqlalchemy import CursorResult, RowMapping, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows

from referrals.adapters.sql.tables import users
from referrals.application.errors import ConcurrencyConflict
from referrals.application.ports import Referral
from referrals.domain.codes import InviteCode
from referrals.domain.phone import Phone
from referrals.domain.user import User

Ts = TypeVarTuple("Ts")

_COLUMNS = (
    users.c.id,
    users.c.phone,
    users.c.invite_code,
    users.c.referrer_id,
    users.c.used_invite_code,
    users.c.referred_count,
)


def _user(row: RowMapping | None) -> User | None:
    if row is None:
        return None
    return User(
        id=row["id"],
        phone=Phone(row["phone"]),
        invite_code=InviteCode(row["invite_code"]),
        referrer_id=row["referrer_id"],
        used_invite_code=InviteCode(row["used_invite_code"]) if row["used_invite_code"] else None,
        referred_count=row["referred_count"],
    )


class SqlUserRepository:
    def __init__(
        self,
        conn: AsyncConnection,
        bounded: Callable[[], AbstractAsyncContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        self._conn = conn
        self._bounded = bounded
        self._postgres = conn.dialect.name == "postgresql"

    @overload
    async def _execute(self, statement: TypedReturnsRows[*Ts]) -> CursorResult[*Ts]: ...
    @overload
    async def _execute(self, statement: Executable) -> CursorResult[*tuple[Any, ...]]: ...
    async def _execute(self, statement: Executable) -> CursorResult[*tuple[Any, ...]]:
        async with self._bounded():
            return await self._conn.execute(statement)

    async def _one(self, statement: Any) -> User | None:
        return _user((await self._execute(statement)).mappings().first())

    async def get(self, user_id: int) -> User | None:
        return await self._one(select(*_COLUMNS).where(users.c.id == user_id))

    async def get_by_phone(self, phone: Phone) -> User | None:
        return await self._one(select(*_COLUMNS).where(users.c.phone == phone))

    async def get_by_invite_code(self, code: InviteCode) -> User | None:
        return await self._one(select(*_COLUMNS).where(users.c.invite_code == code))

    async def add(self, phone: Phone, invite_code: InviteCode) -> User | None:
        insert = postgresql.insert if self._postgres else sqlite.insert
        statement = (
            insert(users)
            .values(phone=phone, invite_code=invite_code)
            .on_conflict_do_nothing()
            .returning(*_COLUMNS)
        )
        return await self._one(statement)

    async def lock(self, user_id: int) -> User | None:
        return await self._one(select(*_COLUMNS).where(users.c.id == user_id).with_for_update())

    async def referrers_of(self, user_id: int) -> list[int]:
        chain: list[int] = []
        top = user_id
        while True:
            chain.extend(await self._chain_above(top))
            top = chain[-1] if chain else user_id
            if not self._postgres:
                return chain
            # Freeze the chain: lock its root and check it is still a root.
            root = select(users.c.referrer_id).where(users.c.id == top)
            locked = root.with_for_update(key_share=True, read=True, nowait=True)
            if (await self._execute(locked)).scalar_one() is None:
                return chain

    async def _chain_above(self, user_id: int) -> list[int]:
        start = select(users.c.id, users.c.referrer_id).where(users.c.id == user_id)
        chain = start.cte("chain", recursive=True)
        chain = chain.union(
            select(users.c.id, users.c.referrer_id).join(chain, users.c.id == chain.c.referrer_id)
        )
        rows = await self._execute(select(chain.c.id, chain.c.referrer_id))
        links = {row.id: row.referrer_id for row in rows}
        above: list[int] = []
        current = links.get(user_id)
        while current is not None and current not in above:
            above.append(current)
            current = links.get(current)
        return above

    async def set_referrer(self, user: User, referrer: User) -> None:
        rank = (
            await self._execute(
                update(users)
                .where(users.c.id == referrer.id)
                .values(referred_count=users.c.referred_count + 1)
                .returning(users.c.referred_count)
            )
        ).scalar_one()
        linked = await self._execute(
            update(users)
            .where(users.c.id == user.id, users.c.referrer_id.is_(None))
            .values(
                referrer_id=referrer.id,
                used_invite_code=referrer.invite_code,
                referral_rank=rank,
                referred_at=func.now(),
            )
        )
        if linked.rowcount != 1:  # the caller's lock should make this impossible
            raise ConcurrencyConflict()

    async def referrals(self, referrer_id: int, after_rank: int, limit: int) -> list[Referral]:
        rows = await self._execute(
            select(users.c.referral_rank, users.c.phone)
            .where(users.c.referrer_id == referrer_id, users.c.referral_rank > after_rank)
            .order_by(users.c.referral_rank)
            .limit(limit)
        )
        return [Referral(rank=rank, phone=Phone(phone)) for rank, phone in rows]
