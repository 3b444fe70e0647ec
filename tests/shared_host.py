"""A host that runs every unit of work in a transaction of its own, committed
after the unit: how the contract suite exercises
:class:`~referrals.adapters.sql.SharedTransaction`, a unit of work that
lives inside a host's transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import event

from referrals.adapters.sql import Namespace, SharedTransaction
from referrals.adapters.sql.shared import SharedUnitOfWork
from referrals.application.ports import UnitOfWork, UnitOfWorkFactory

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def async_url(url: str) -> str:
    """A service URL as SQLAlchemy's async drivers spell it (aiosqlite, psycopg)."""
    scheme, rest = url.split("://", 1)
    return (
        "sqlite+aiosqlite://" if scheme.startswith("sqlite") else "postgresql+psycopg://"
    ) + rest


@asynccontextmanager
async def host_engine(url: str) -> AsyncIterator[AsyncEngine]:
    """The host's own async engine on ``url`` (SQLite: foreign keys on, waits for locks)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    if url.startswith("sqlite"):
        engine = create_async_engine(async_url(url), connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _foreign_keys(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
    else:
        engine = create_async_engine(async_url(url), pool_size=20, max_overflow=10)
    try:
        yield engine
    finally:
        await engine.dispose()


class _HostTransaction:
    """The host's transaction around one unit: committed after it, rolled back on error."""

    def __init__(self, engine: AsyncEngine, namespace: Namespace, read_only: bool) -> None:
        self._engine, self._namespace, self._read_only = engine, namespace, read_only
        self._connection: AsyncConnection | None = None
        self._unit: SharedUnitOfWork | None = None

    async def __aenter__(self) -> SharedUnitOfWork:
        self._connection = connection = await self._engine.connect()
        await connection.begin()
        unit = SharedTransaction(connection, self._namespace)(read_only=self._read_only)
        self._unit = await unit.__aenter__()
        return self._unit

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        assert self._unit is not None
        try:
            await self._unit.__aexit__(exc_type, exc, tb)
            if exc_type is None:
                await self._connection.commit()
            else:
                await self._connection.rollback()
        finally:
            await self._connection.close()


def host_commits_each_unit(engine: AsyncEngine, namespace: Namespace) -> UnitOfWorkFactory:
    """Units of work in the host's transactions, one transaction per unit."""

    def unit_of_work(*, read_only: bool = False, autocommit: bool = False) -> UnitOfWork:
        return cast(UnitOfWork, _HostTransaction(engine, namespace, read_only))

    return unit_of_work
