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
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from referrals.adapters.sql import statements as sql
from referrals.application.errors import ConcurrencyConflict
from referrals.application.ports import Referral, Totals
from referrals.domain.codes import InviteCode
from referrals.domain.phone import Phone
from referrals.domain.user import User


def _user(row: RowMapping) -> User:
    used = row["used_invite_code"]
    return User(
        id=row["id"],
        phone=Phone(row["phone"]),
        invite_code=InviteCode(row["invite_code"]),
        referrer_id=row["referrer_id"],
        used_invite_code=InviteCode(used) if used else None,
        referred_count=row["referred_count"],
        created_by=row["created_by"],
    )


class SqlUserRepository:
    def __init__(
        self,
        conn: AsyncConnection,
        bounded: Callable[[], AbstractAsyncContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        self._conn = conn
        self._bounded = bounded
        self._dialect = conn.dialect.name

    async def _execute(self, statement: Executable, params: Mapping[str, Any]) -> CursorResult[Any]:
        async with self._bounded():
            return await self._conn.execute(statement, params)

    async def _one(self, statement: Executable, **params: Any) -> User | None:
        row = (await self._execute(statement, params)).mappings().first()
        return None if row is None else _user(row)

    async def get(self, user_id: int) -> User | None:
        return await self._one(sql.USER_BY_ID, user_id=user_id)

    async def get_by_phone(self, phone: Phone) -> User | None:
        return await self._one(sql.USER_BY_PHONE, phone=phone)

    async def get_by_invite_code(self, code: InviteCode) -> User | None:
        return await self._one(sql.USER_BY_CODE, code=code)

    async def add(self, phone: Phone, invite_code: InviteCode, created_by: str) -> User | None:
        statement = sql.ADD_USER[self._dialect]
        return await self._one(statement, phone=phone, code=invite_code, created_by=created_by)

    async def lock(self, user_id: int) -> User | None:
        return await self._one(sql.LOCK_USER, user_id=user_id)

    async def referrers_of(self, user_id: int) -> list[int]:
        chain: list[int] = []
        top = user_id
        while True:
            chain.extend(await self._chain_above(top))
            top = chain[-1] if chain else user_id
            if self._dialect != "postgresql":
                return chain
            # Freeze the chain: lock its root and check it is still a root.
            root = await self._execute(sql.LOCK_ROOT, {"user_id": top})
            if root.scalar_one() is None:
                return chain

    async def _chain_above(self, user_id: int) -> list[int]:
        rows = await self._execute(sql.REFERRER_CHAIN, {"user_id": user_id})
        links = {row.id: row.referrer_id for row in rows}
        above: list[int] = []
        current = links.get(user_id)
        while current is not None and current not in above:
            above.append(current)
            current = links.get(current)
        return above

    async def set_referrer(self, user: User, referrer: User) -> None:
        counted = await self._execute(sql.COUNT_REFERRAL, {"owner_id": referrer.id})
        params = {
            "user_id": user.id,
            "owner_id": referrer.id,
            "code": referrer.invite_code,
            "rank": counted.scalar_one(),
        }
        linked = await self._execute(sql.LINK_REFERRER, params)
        if linked.rowcount != 1:  # the caller's lock should make this impossible
            raise ConcurrencyConflict()

    async def profile(
        self, user_id: int, after_rank: int, limit: int
    ) -> tuple[User, list[Referral]] | None:
        params = {"user_id": user_id, "after": after_rank, "limit": limit}
        rows: Sequence[Any] = (await self._execute(sql.PROFILE, params)).all()
        if not rows:
            return None
        # Plain tuples, not mappings: a page is up to 1,001 rows.
        user = _user(rows[0]._mapping)
        page = [Referral(row[-2], Phone(row[-1])) for row in rows if row[-2] is not None]
        return user, page

    async def chain_above(self, user_id: int) -> list[User]:
        rows = (await self._execute(sql.CHAIN_USERS, {"user_id": user_id})).mappings().all()
        by_id = {row["id"]: _user(row) for row in rows}
        chain: list[User] = []
        current = by_id[user_id].referrer_id if user_id in by_id else None
        while current is not None and current in by_id and by_id[current] not in chain:
            chain.append(by_id[current])
            current = by_id[current].referrer_id
        return chain

    async def totals(self, since: float, top: int) -> Totals:
        moment = datetime.fromtimestamp(since, UTC)
        if self._dialect == "sqlite":  # kept as naive UTC text: compare like with like
            moment = moment.replace(tzinfo=None)
        counts: Sequence[int] = (await self._execute(sql.COUNT_USERS, {"since": moment})).one()
        rows = (await self._execute(sql.TOP_REFERRERS, {"top": top})).mappings().all()
        return Totals(
            users=counts[0],
            users_since=counts[1],
            referrals=counts[2],
            referrals_since=counts[3],
            top_referrers=[_user(row) for row in rows],
        )
