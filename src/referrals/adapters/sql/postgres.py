"""PostgreSQL through psycopg and its own fixed-size connection pool.

Pool: ``pool_size`` connections, all opened at start and kept (min = max),
so no request ever waits for a connection to be opened or closed. A
request that finds them all busy waits in line (first come, first served)
up to ``timeout`` seconds, then answers 503. A connection found broken
(a restarted server) fails its request once; the pool then checks the
others and reconnects in the background. Connections are renewed after an
hour (psycopg_pool's ``max_lifetime``), one at a time.

Statements: compiled once from SQLAlchemy Core (``statements.py``) and run
by psycopg directly; psycopg prepares each on a connection at its first
use, unless ``prepared_statements`` is off (PgBouncer in transaction mode
hands each transaction a different server connection, where a statement
prepared elsewhere does not exist). Behind such a pooler the
``statement_timeout``/``lock_timeout`` connection options cannot be sent
either: set them on the role instead (see docs/production.md); the client-side
:func:`~referrals.adapters.sql.deadline.deadline` bounds each round trip
regardless.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from referrals.adapters.sql.compiled import Compiled
from referrals.adapters.sql.database import Database
from referrals.adapters.sql.deadline import deadline
from referrals.adapters.sql.namespace import Namespace
from referrals.adapters.sql.outbox import (
    SqlOutbox,
    add_event_statement,
    add_login_statement,
    event_values,
    login_values,
    welcome_values,
)
from referrals.adapters.sql.postgres_users import PostgresUserRepository
from referrals.adapters.sql.repository import (
    CONFLICT_SQLSTATES,
    Row,
)
from referrals.adapters.sql.schema import revision_query
from referrals.adapters.sql.statements import Statements, statements_for
from referrals.application.errors import ConcurrencyConflict, ServiceUnavailable

Connection = psycopg.AsyncConnection[Any]


def translated(exc: Exception) -> Exception:
    """The application's error for a driver error: a conflict, or unavailability."""
    if isinstance(exc, psycopg.Error):
        if exc.sqlstate in CONFLICT_SQLSTATES:
            return ConcurrencyConflict()
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError | PoolTimeout):
            return ServiceUnavailable("the database")
    elif isinstance(exc, OSError):  # TimeoutError of deadline() too
        return ServiceUnavailable("the database")
    return exc


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """Turn driver errors into the application's (see :func:`translated`)."""
    try:
        yield
    except (psycopg.Error, OSError) as exc:
        error = translated(exc)
        if error is exc:
            raise
        raise error from exc


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://…`` (SQLAlchemy's spelling) as libpq reads it."""
    return "postgresql://" + url.split("://", 1)[1]


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        namespace: Namespace,
        *,
        pool_size: int,
        timeout: float,
        prepared_statements: bool,
    ) -> None:
        super().__init__(url, namespace)
        self.prepared_statements = prepared_statements
        self.statements: Statements = statements_for("postgresql", namespace)
        # As long as the statement timeout: a slow statement is cut by the
        # server (either way a 503), a silent server by this guard.
        self.round_trip = 2 * timeout
        millis = int(timeout * 1000)
        connection: dict[str, Any] = {
            "autocommit": True,  # writing units send BEGIN themselves, reads need none
            "connect_timeout": max(1, round(timeout)),
            # 0: prepare at first use; None: never (transaction-mode poolers)
            "prepare_threshold": 0 if prepared_statements else None,
        }
        if prepared_statements:  # poolers in transaction mode refuse startup options
            # Added to the URL's own (``?options=-csearch_path=…``), which replace none.
            ours = f"-c statement_timeout={millis * 2} -c lock_timeout={millis}"
            given = conninfo_to_dict(libpq_url(url)).get("options")
            connection["options"] = f"{given} {ours}" if given else ours
        self.pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            libpq_url(url),
            kwargs=connection,
            min_size=pool_size,
            max_size=pool_size,
            timeout=timeout,  # waiting in line for a connection, then 503
            open=False,
            name="referrals",
        )
        self._checking: asyncio.Task[None] | None = None

    def unit_of_work(
        self, *, read_only: bool = False, autocommit: bool = False
    ) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self, transaction=not (read_only or autocommit))

    def bounded(self) -> AbstractAsyncContextManager[None]:
        """A :func:`deadline` for one round trip (a checkout, a statement, a commit)."""
        return deadline(self.round_trip)

    async def open(self) -> None:
        with translated_errors():
            await self.pool.open(wait=True, timeout=self.round_trip)

    async def close(self) -> None:
        if self._checking is not None:
            self._checking.cancel()
        await self.pool.close()

    async def ping(self) -> None:
        async with self.unit_of_work(read_only=True) as unit:
            await unit.execute("SELECT 1")

    async def revision(self) -> str | None:
        async with self.unit_of_work(read_only=True) as unit:
            try:
                row = await unit.execute(revision_query(self.namespace))
            except psycopg.errors.UndefinedTable:
                return None
        return None if row is None else str(row[0])

    def connection_lost(self) -> None:
        """A connection broke: have the pool check the idle ones (in the background)."""
        if self._checking is None or self._checking.done():
            self._checking = asyncio.get_running_loop().create_task(self._check())

    async def _check(self) -> None:
        with contextlib.suppress(Exception):
            await self.pool.check()


class PostgresUnitOfWork:
    """One pooled connection; a writing unit is one transaction (BEGIN … COMMIT).

    Its BEGIN goes out with its first statement, in one pipeline (one round
    trip for both); a unit that runs no statement sends neither BEGIN nor
    COMMIT. The outbox's events, logins and welcomes go out with the
    COMMIT, in one pipeline too: writing them costs no round trip of their
    own. Read-only and autocommit units run each statement in autocommit: no
    BEGIN/ROLLBACK round trips, each read sees committed data; their commit
    sends only what the outbox holds (BEGIN, rows, COMMIT in one pipeline).
    """

    users: PostgresUserRepository
    outbox: SqlOutbox

    def __init__(self, database: PostgresDatabase, *, transaction: bool) -> None:
        self._database = database
        self._transaction = transaction
        self._conn: Connection | None = None
        self._cursor: psycopg.AsyncCursor[Any] | None = None
        self._open_transaction = False
        self._begin_pending = False
        self._wrote = False

    async def __aenter__(self) -> Self:
        database = self._database
        with translated_errors():
            # Bounded by the pool's own timeout; it connects in the background.
            conn = await database.pool.getconn()
        self._begin_pending = self._transaction
        self._conn = conn
        self._cursor = conn.cursor()
        self.users = PostgresUserRepository(self, database.statements)
        self.outbox = SqlOutbox()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn, self._cursor = self._active(), None, None
        await self._release(conn, broken=isinstance(exc, psycopg.OperationalError | OSError))
        if isinstance(exc, psycopg.Error | PoolTimeout | OSError):
            with translated_errors():
                raise exc  # leaves as ServiceUnavailable or ConcurrencyConflict

    async def commit(self) -> None:
        outbox = self.outbox
        welcomes, events, logins = outbox.take_welcomes(), outbox.take(), outbox.take_logins()
        begin, self._begin_pending = self._begin_pending, False
        if not (welcomes or events or logins):
            if self._open_transaction:
                with translated_errors():
                    async with self._database.bounded():
                        await self._active().execute("COMMIT")
                self._open_transaction = False
            return  # otherwise nothing ran, or each statement committed itself
        conn = self._active()
        namespace, sql = self._database.namespace, self._database.statements
        insert = add_event_statement("postgresql", namespace)
        record = add_login_statement("postgresql", namespace)
        with translated_errors():
            async with self._database.bounded():
                # The rows, and BEGIN if no transaction is open, ride with the COMMIT.
                self._open_transaction = True
                async with conn.pipeline():
                    if begin or not self._transaction:
                        await conn.execute("BEGIN")
                    for welcome in welcomes:  # user.created ahead of the other events
                        statement = sql.welcome_created if welcome.created else sql.welcome_user
                        await conn.execute(statement.sql, statement.args(welcome_values(welcome)))
                    for event in events:
                        await conn.execute(insert.sql, insert.args(event_values(event)))
                    for login in logins:
                        await conn.execute(record.sql, record.args(login_values(login)))
                    await conn.execute("COMMIT")
        self._open_transaction = False

    async def _release(self, conn: Connection, *, broken: bool) -> None:
        """Give the connection back, rolling back whatever was not committed.

        A broken connection, or one whose rollback gets no answer in time, is
        dropped by the pool instead; the caller's own error stands.
        """
        database = self._database
        with contextlib.suppress(Exception):
            if self._open_transaction and not conn.closed:
                async with database.bounded():
                    await conn.execute(self._end_unwritten())
        self._open_transaction = self._begin_pending = self._wrote = False
        if conn.broken or conn.closed or broken:
            database.connection_lost()
        with contextlib.suppress(Exception):
            await database.pool.putconn(conn)

    def _end_unwritten(self) -> str:
        """How to end a transaction that is not to be committed.

        psycopg forgets every prepared statement of a connection when it sees a
        ROLLBACK (a rolled-back DDL could have changed what they refer to), so
        the next units would prepare each statement again, one round trip
        each. A unit that only read (a refused referral: the user locked, the
        code not found) ends with COMMIT instead, which changes nothing; a
        transaction in error answers COMMIT with a rollback anyway.
        """
        return "ROLLBACK" if self._wrote else "COMMIT"

    def _active(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("the unit of work is used outside its `async with` block")
        return self._conn

    # Executor: what the repository runs its statements through.

    async def _run(self, statement: Compiled, values: dict[str, Any]) -> psycopg.AsyncCursor[Any]:
        cursor = self._cursor
        if cursor is None:
            raise RuntimeError("the unit of work is used outside its `async with` block")
        if statement.writes_when is None:  # else known from its answer (see one() and all())
            self._wrote = self._wrote or statement.writes
        try:
            async with self._database.bounded():
                if self._begin_pending:
                    return await self._begin_with(cursor, statement.sql, statement.args(values))
                return await cursor.execute(statement.sql, statement.args(values))
        except (psycopg.Error, OSError) as exc:
            error = translated(exc)
            if error is exc:
                raise
            raise error from exc

    async def _begin_with(
        self, cursor: psycopg.AsyncCursor[Any], sql: str, args: Any
    ) -> psycopg.AsyncCursor[Any]:
        """BEGIN and the unit's first statement, sent together (one round trip)."""
        conn = self._active()
        self._begin_pending = False
        self._open_transaction = True  # from here on, a failure rolls back
        async with conn.pipeline():
            await conn.execute("BEGIN")
            await cursor.execute(sql, args)
        return cursor

    async def execute(self, sql: str) -> Row | None:
        """Run plain SQL (no parameters); the first row. For health checks and the schema."""
        self._wrote = True  # whatever it is
        async with self._database.bounded():
            if self._begin_pending:
                cursor = await self._begin_with(self._active().cursor(), sql, None)
            else:
                cursor = await self._active().execute(sql)
            return await cursor.fetchone()

    async def one(self, statement: Compiled, **values: Any) -> Row | None:
        cursor = await self._run(statement, values)
        row = await cursor.fetchone()
        self._note_writes(statement, row)
        return row

    async def all(self, statement: Compiled, **values: Any) -> list[Row]:
        cursor = await self._run(statement, values)
        rows = await cursor.fetchall()
        self._note_writes(statement, rows[0] if rows else None)
        return rows

    def _note_writes(self, statement: Compiled, first: Row | None) -> None:
        """Whether a statement that writes only on some answers wrote (see
        ``Compiled.writes_when``): a unit that wrote nothing ends with COMMIT."""
        if statement.writes_when is not None and first is not None:
            self._wrote = self._wrote or first[0] == statement.writes_when

    async def rowcount(self, statement: Compiled, **values: Any) -> int:
        cursor = await self._run(statement, values)
        return cursor.rowcount
