"""The unit of work on SQLAlchemy Core: one connection, one transaction.

Every round trip (checking a connection out, each statement, the commit,
giving the connection back) runs under :meth:`Database.bounded`, so a
PostgreSQL that accepts connections but never answers costs a request a
bounded time and a 503, not a hang, and its connections are dropped.
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection

from referrals.adapters.sql.database import DRIVER_ERRORS, Database, translated_errors
from referrals.adapters.sql.repository import SqlUserRepository
from referrals.application.ports import UnitOfWorkFactory


def sql_unit_of_work(database: Database) -> UnitOfWorkFactory:
    """The :class:`~referrals.application.ports.UnitOfWorkFactory` of ``database``."""

    def unit_of_work(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(database, read_only=read_only)

    return unit_of_work


class SqlUnitOfWork:
    """One connection and one transaction; driver errors leave it translated."""

    users: SqlUserRepository

    def __init__(self, database: Database, *, read_only: bool = False) -> None:
        self._database = database
        self._read_only = read_only
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        database = self._database
        with translated_errors():
            async with database.bounded():
                conn = await database.engine.connect()
            try:
                if self._read_only:
                    # No BEGIN/ROLLBACK round trips: each read sees committed data.
                    conn = await database.read_only(conn)
                else:
                    async with database.bounded():
                        await conn.begin()
            except BaseException:
                await self._release(conn)
                raise
        self._conn = conn
        self.users = SqlUserRepository(conn, database.bounded)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._active(), None
        await self._release(conn)
        if isinstance(exc, DRIVER_ERRORS):
            with translated_errors():
                raise exc  # leaves as ServiceUnavailable or ConcurrencyConflict

    async def commit(self) -> None:
        with translated_errors():
            async with self._database.bounded():
                await self._active().commit()

    async def _release(self, conn: AsyncConnection) -> None:
        """Give the connection back, rolling back whatever was not committed.

        A broken connection, or one whose rollback gets no answer in time, is
        dropped by the pool instead; the caller's own error stands.
        """
        with contextlib.suppress(Exception):
            async with self._database.bounded():
                await conn.close()

    def _active(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("the unit of work is used outside its `async with` block")
        return self._conn
