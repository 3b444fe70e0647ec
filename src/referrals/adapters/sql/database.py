"""The engine, its dialect quirks, error translation and schema migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    asynccontextmanager,
    contextmanager,
    nullcontext,
)
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from referrals.application.errors import ConcurrencyConflict, ServiceUnavailable

if TYPE_CHECKING:
    from referrals.adapters.sql.uow import SqlUnitOfWork

MIGRATIONS = Path(__file__).with_name("migrations")
# serialization_failure, deadlock_detected, lock_not_available
CONFLICT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
DRIVER_ERRORS = (DBAPIError, PoolTimeout, OSError)
CANCEL_GRACE = 0.5
"""Seconds between the cancellations of a round trip that overran its deadline."""


class SchemaOutdated(RuntimeError):
    """The database is not at the latest migration: run ``referrals migrate``."""


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


@asynccontextmanager
async def deadline(seconds: float, *, grace: float = CANCEL_GRACE) -> AsyncIterator[None]:
    """Raise the built-in :class:`TimeoutError` (an ``OSError``, so
    :func:`translated_errors` makes it ``ServiceUnavailable``) if the block
    runs longer than ``seconds``.

    Unlike :func:`asyncio.timeout`, the block is cancelled again every
    ``grace`` seconds until it ends. psycopg answers a cancelled query by
    asking the server to cancel it and waiting for that, up to 10 s more;
    against a server that accepts connections but never answers (frozen, or
    behind a network that drops packets) that is 10 s lost. A second
    cancellation makes psycopg close the connection at once instead, which
    is what psycopg itself does on a second Ctrl-C. The pool then drops the
    connection. A server that does answer finishes the cancellation within
    the grace, so its connection is kept.
    """
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("deadline() needs a running task")
    loop = asyncio.get_running_loop()
    fired = 0
    timers: list[asyncio.TimerHandle] = []

    def cancel() -> None:
        nonlocal fired
        fired += 1
        task.cancel()
        timers.append(loop.call_later(grace, cancel))

    timers.append(loop.call_later(seconds, cancel))
    try:
        yield
    except asyncio.CancelledError as exc:
        for timer in timers:
            timer.cancel()
        ours, fired = fired, 0
        remaining = task.cancelling()
        for _ in range(ours):
            remaining = task.uncancel()
        if ours and remaining == 0:
            raise TimeoutError(f"no answer from the database within {seconds:g} s") from exc
        raise
    finally:
        for timer in timers:
            timer.cancel()
        for _ in range(fired):  # ours, though an inner layer turned it into something else
            task.uncancel()


class Database:
    """Owns the async engine for one database URL.

    PostgreSQL: a pool of ``pool_size`` connections (plus ``max_overflow``),
    checked before use so a restarted server is picked up without a restart
    of ours; connect, statement and lock timeouts bound every wait, and
    :meth:`bounded` guards each round trip on the client side too, for a
    server that accepts connections but does not answer.
    SQLite: WAL journal, and every writing unit starts ``BEGIN IMMEDIATE`` so
    units are serialised by the database itself, across processes too.
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
        options: dict[str, Any] = {"pool_pre_ping": True, "pool_timeout": timeout}
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
            options |= {"connect_args": {"timeout": timeout}}
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if self.dialect == "sqlite":
            _prepare_sqlite(self.engine)

    def unit_of_work(self, *, read_only: bool = False) -> SqlUnitOfWork:
        """A :class:`~referrals.application.ports.UnitOfWorkFactory` on this database."""
        from referrals.adapters.sql.uow import SqlUnitOfWork

        return SqlUnitOfWork(self, read_only=read_only)

    def bounded(self) -> AbstractAsyncContextManager[None]:
        """A :func:`deadline` for one round trip: checking a connection out of
        the pool (waiting for one, connecting, the pre-ping), a statement, a
        commit, or giving the connection back. Nothing for SQLite, whose waits
        are bounded by its busy timeout."""
        if self.round_trip is None:
            return nullcontext()
        return deadline(self.round_trip)

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        with translated_errors():
            async with self.bounded(), self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")

    async def migrate(self) -> None:
        """Bring the schema to the latest migration (idempotent, safe to race)."""
        with translated_errors():
            async with self.engine.begin() as conn:
                await conn.run_sync(_upgrade)

    async def check_schema(self) -> None:
        """Raise :class:`SchemaOutdated` unless the schema is at the latest migration."""
        with translated_errors():
            async with self.bounded(), self.engine.connect() as conn:
                current = await conn.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_revision()
                )
        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        if current != head:
            raise SchemaOutdated(
                f"the database schema is at {current or 'nothing'}, not {head}:"
                " run `referrals migrate`"
            )

    async def prepare(self) -> None:
        """What serving does at start: SQLite migrates itself, others are checked."""
        if self.dialect == "sqlite":
            await self.migrate()
        else:
            await self.check_schema()


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Two processes migrating at once take turns instead of colliding.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7311227)")
    command.upgrade(_alembic_config(connection), "head")


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
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or ``None`` for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


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
