"""Units of work inside a host's own transaction, on its SQLAlchemy connection.

A host that keeps its own rows in the same database (a bonus, an audit
line) can have a referral, a new user and their outbox events written in
*its* transaction: they commit when the host commits and vanish when it
rolls back (see ``docs/host-database.md``, "Sharing the host's
transaction")::

    async with engine.begin() as connection:            # the host's transaction
        await connection.execute(insert(bonuses).values(...))
        shared = service.sharing(SharedTransaction(connection))
        await shared.apply_referral(user_id, code)
    # both rows are committed here, or neither

Each unit of work is a SAVEPOINT in that transaction: a unit left without
``commit()`` (a refused referral, an error) is rolled back to it and the
host's transaction goes on; ``commit()`` only releases it. The statements
are ``statements.py``'s, run through SQLAlchemy on the host's connection,
so any async driver SQLAlchemy has for PostgreSQL (psycopg, asyncpg) or
SQLite (aiosqlite) works. Units run one after another: a connection runs
one statement at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

from referrals.adapters.sql.compiled import Compiled
from referrals.adapters.sql.namespace import Namespace
from referrals.adapters.sql.outbox import (
    SqlOutbox,
    add_event_clause,
    add_login_clause,
    event_values,
    login_values,
)
from referrals.adapters.sql.repository import CONFLICT_SQLSTATES, Row, SqlUserRepository
from referrals.adapters.sql.statements import statement_clauses, statements_for
from referrals.adapters.sql.tables import tables_for
from referrals.application.errors import ConcurrencyConflict, ServiceUnavailable

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, AsyncTransaction

DIALECTS = ("postgresql", "sqlite")


@functools.cache
def _clauses(dialect: str, namespace: Namespace) -> Mapping[str, Executable]:
    """The repository's statements as SQLAlchemy clauses, by their compiled SQL
    (what :class:`SqlUserRepository` hands its executor)."""
    compiled = statements_for(dialect, namespace)
    built = statement_clauses(tables_for(namespace), dialect)
    return {getattr(compiled, name).sql: cast(Executable, built[name]) for name in built}


def _repository(dialect: str) -> type[SqlUserRepository]:
    """The user repository of ``dialect``, with what only that dialect does."""
    if dialect == "sqlite":
        from referrals.adapters.sql.sqlite import SqliteUserRepository

        return SqliteUserRepository
    from referrals.adapters.sql.postgres_users import PostgresUserRepository

    return PostgresUserRepository


def translated(exc: DBAPIError) -> Exception:
    """The application's error for a driver's: a lost race, or unavailability."""
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state in CONFLICT_SQLSTATES or "database is locked" in str(orig):
        return ConcurrencyConflict()
    if exc.connection_invalidated or type(orig).__name__ in {"OperationalError", "InterfaceError"}:
        return ServiceUnavailable("the database")
    return exc


class SharedTransaction:
    """A :class:`~referrals.application.ports.UnitOfWorkFactory` whose units
    run in the transaction of a host's ``AsyncConnection`` or ``AsyncSession``.

    ``namespace``: where our tables are (the settings' ``db_table_prefix``
    and ``db_schema``). Left out, ``Service.sharing`` takes its settings'
    (used alone, ``referrals_`` in the default schema). The host begins,
    commits and rolls back; its connection is never closed here.
    """

    def __init__(
        self,
        connection: AsyncConnection | AsyncSession,
        namespace: Namespace | None = None,
    ) -> None:
        self.connection = connection
        self._given = namespace
        self.namespace = namespace or Namespace("referrals_", None)

    def in_namespace(self, namespace: Namespace) -> SharedTransaction:
        """This transaction for a service whose tables are in ``namespace``
        (``Service.sharing`` asks): that namespace unless one was given, and
        a different one given is refused (``ValueError``), not left to fail
        as a missing table."""
        if self._given is None:
            return SharedTransaction(self.connection, namespace)
        if self._given != namespace:
            raise ValueError(
                f"SharedTransaction in {self._given}, but the service's tables are in"
                f" {namespace} (REFERRALS_DB_TABLE_PREFIX, REFERRALS_DB_SCHEMA)"
            )
        return self

    def __call__(self, *, read_only: bool = False, autocommit: bool = False) -> SharedUnitOfWork:
        # autocommit: a SAVEPOINT all the same (the host's transaction decides).
        return SharedUnitOfWork(self, read_only=read_only)


class SharedUnitOfWork:
    """One unit: a SAVEPOINT in the host's transaction (none when read-only)."""

    users: SqlUserRepository
    outbox: SqlOutbox

    def __init__(self, shared: SharedTransaction, *, read_only: bool) -> None:
        self._shared = shared
        self._read_only = read_only
        self._connection: AsyncConnection | None = None
        self._savepoint: AsyncTransaction | None = None

    async def __aenter__(self) -> Self:
        from sqlalchemy.ext.asyncio import AsyncSession

        given = self._shared.connection
        connection = await given.connection() if isinstance(given, AsyncSession) else given
        dialect = connection.dialect.name
        if dialect not in DIALECTS:
            raise ValueError(f"referrals' tables live in PostgreSQL or SQLite, not {dialect}")
        self._connection = connection
        if not self._read_only:
            try:
                if dialect == "sqlite":
                    await self._begin_sqlite(connection)
                self._savepoint = await connection.begin_nested()
            except DBAPIError as exc:
                raise translated(exc) from exc
        self.users = _repository(dialect)(self, statements_for(dialect, self._shared.namespace))
        self.outbox = SqlOutbox()
        return self

    @staticmethod
    async def _begin_sqlite(connection: AsyncConnection) -> None:
        """The sqlite3 driver begins a transaction only at the first write: a
        SAVEPOINT before it would be a transaction of its own, committed by
        its RELEASE. Begin the host's transaction first (it commits it)."""
        raw = await connection.get_raw_connection()
        if not getattr(raw.driver_connection, "in_transaction", True):
            await connection.exec_driver_sql("BEGIN IMMEDIATE")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        savepoint, self._savepoint = self._savepoint, None
        if savepoint is not None and savepoint.is_active:
            await savepoint.rollback()  # left without commit: undo this unit only

    async def commit(self) -> None:
        """Write the held events and release the SAVEPOINT: the host's commit
        makes it all durable, its rollback undoes it."""
        savepoint = self._savepoint
        if savepoint is None:
            raise RuntimeError("a read-only unit of work has nothing to commit")
        events, logins = self.outbox.take(), self.outbox.take_logins()
        namespace = self._shared.namespace
        try:
            welcome = statements_for(self._live().dialect.name, namespace).welcome_user
            for user_id, created in self.outbox.take_welcomes():  # user.created goes first
                if await self.rowcount(welcome, user_id=user_id) == 1 and created is not None:
                    events.insert(0, created)
            if events:
                await self._live().execute(
                    add_event_clause(namespace), [event_values(e) for e in events]
                )
            if logins:
                await self._live().execute(
                    add_login_clause(namespace), [login_values(login) for login in logins]
                )
            await savepoint.commit()
        except DBAPIError as exc:
            raise translated(exc) from exc
        self._savepoint = None

    def _live(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is used outside its `async with` block")
        return self._connection

    async def _run(self, statement: Compiled, values: dict[str, Any]) -> Any:
        clause = _clauses(self._live().dialect.name, self._shared.namespace)[statement.sql]
        try:
            return await self._live().execute(clause, values)
        except DBAPIError as exc:
            raise translated(exc) from exc

    # Executor: what the repository runs its statements through.

    async def one(self, statement: Compiled, **values: Any) -> Row | None:
        result = await self._run(statement, values)
        row: Row | None = result.first() if result.returns_rows else None
        return row

    async def all(self, statement: Compiled, **values: Any) -> list[Row]:
        return list((await self._run(statement, values)).all())

    async def rowcount(self, statement: Compiled, **values: Any) -> int:
        count: int = (await self._run(statement, values)).rowcount
        return count
