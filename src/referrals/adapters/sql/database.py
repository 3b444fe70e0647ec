"""The engine, its dialect quirks, error translation, and preparing the schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import (
    AbstractAsyncContextManager,
    contextmanager,
    nullcontext,
)
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from referrals.adapters.sql.deadline import deadline
from referrals.adapters.sql.schema import current_revision, ensure_current, upgrade
from referrals.application.errors import ConcurrencyConflict, ServiceUnavailable

# serialization_failure, deadlock_detected, lock_not_available
CONFLICT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
DRIVER_ERRORS = (DBAPIError, PoolTimeout, OSError)
READ_ONLY = "referrals_read_only"
"""Execution option marking a read-only unit's connection (see :meth:`Database.read_only`)."""
SQLITE_QUEUE_TIMEOUT = 30.0
"""Seconds a request may wait in line for the SQLite connection before a 503."""


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn driver errors into the application's: conflicts and unavailability."""
    try:
        yield
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in CONFLICT_SQLSTATES:
            raise ConcurrencyConflict() from exc
        if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
            raise ServiceUnavailable("the database") from exc
        raise
    except (PoolTimeout, OSError) as exc:
        raise ServiceUnavailable("the database") from exc


class Database:
    """Owns the async engine for one database URL.

    PostgreSQL: a pool of ``pool_size`` connections (plus ``max_overflow``);
    a connection a restarted server dropped fails its request once, then the
    pool is renewed, with no restart of ours; connect, statement and lock
    timeouts bound every wait, and :meth:`bounded` guards each round trip on
    the client side too, for a server that accepts connections but does not
    answer. SQLite: one connection used in turn, WAL journal, and every
    writing unit starts ``BEGIN IMMEDIATE``, so units are serialised by the
    database itself, across processes too.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        timeout: float = 3.0,
    ) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        self.round_trip: float | None = None
        """Seconds one round trip may take (PostgreSQL; see :meth:`bounded`)."""
        # No pre-ping: it would cost a round trip per request. A connection a
        # restarted server dropped fails once; SQLAlchemy then discards the
        # whole pool, so the next request connects afresh (see SqlUnitOfWork).
        options: dict[str, Any] = {"pool_timeout": timeout}
        if self.dialect == "postgresql":
            millis = int(timeout * 1000)
            # As long as the statement timeout: a slow statement is cut by the
            # server (either way a 503), a silent server by this guard.
            self.round_trip = 2 * timeout
            options |= {
                "pool_size": pool_size,
                "max_overflow": max_overflow,
                "connect_args": {
                    "connect_timeout": max(1, round(timeout)),
                    "options": f"-c statement_timeout={millis * 2} -c lock_timeout={millis}",
                },
            }
        else:
            # One connection, shared in turn: SQLite runs one writer at a time
            # anyway, and its busy handler sleeps where a queue would not.
            # Requests wait for it in line, so allow a queue's worth of time.
            options |= {
                # sqlite3 in autocommit; writing units start BEGIN IMMEDIATE
                # themselves (the "begin" hook), reads need no switching.
                "isolation_level": "AUTOCOMMIT",
                "pool_size": 1,
                "max_overflow": 0,
                "pool_timeout": SQLITE_QUEUE_TIMEOUT,
                "connect_args": {"timeout": timeout},
            }
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if self.dialect == "sqlite":
            _prepare_sqlite(self.engine)

    async def read_only(self, conn: AsyncConnection) -> AsyncConnection:
        """``conn`` for a unit that only reads: no BEGIN, so no lock taken and
        no round trips to open and close a transaction.

        PostgreSQL switches the connection to autocommit (a local setting of
        psycopg's). SQLite's engine is in autocommit already; the option only
        tells the "begin" hook not to start ``BEGIN IMMEDIATE``.
        """
        if self.dialect == "sqlite":
            return await conn.execution_options(**{READ_ONLY: True})
        return await conn.execution_options(isolation_level="AUTOCOMMIT")

    def bounded(self) -> AbstractAsyncContextManager[None]:
        """A :func:`deadline` for one round trip: checking a connection out of
        the pool (waiting for one, connecting), a statement, a
        commit, or giving the connection back. Nothing for SQLite, whose waits
        are bounded by its busy timeout."""
        if self.round_trip is None:
            return nullcontext()
        return deadline(self.round_trip)

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def migrate(self) -> None:
        """Bring the schema to the latest migration (idempotent, safe to race)."""
        with translated_errors():
            async with self.engine.begin() as conn:
                await conn.run_sync(upgrade)

    async def check_schema(self) -> None:
        """Raise :class:`SchemaOutdated` unless the schema is at the latest migration."""
        with translated_errors():
            async with self.bounded(), self.engine.connect() as conn:
                current = await conn.run_sync(current_revision)
        ensure_current(current)

    async def prepare(self) -> None:
        """What serving does at start: SQLite migrates itself, others are checked."""
        if self.dialect == "sqlite":
            await self.migrate()
        else:
            await self.check_schema()


def _prepare_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if not conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


async def run_migrations(url: str) -> None:
    """Used by ``referrals migrate``: migrate, then release every connection."""
    database = Database(url, pool_size=1, max_overflow=0)
    try:
        await database.migrate()
    finally:
        await database.dispose()


async def prepare_database(url: str) -> None:
    """Used by ``referrals serve`` before its workers start: :meth:`Database.prepare`."""
    database = Database(url, pool_size=1, max_overflow=0)
    try:
        await database.prepare()
    finally:
        await database.dispose()
