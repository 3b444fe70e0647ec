"""SQLite through the standard library's sqlite3, on the event loop itself.

One connection, shared in turn: a unit of work holds it from start to end
(an :class:`asyncio.Lock`, first come first served; waiting longer than
``SQLITE_QUEUE_TIMEOUT`` answers 503). Statements run in the loop's own
thread: on a local file in WAL mode one takes microseconds, less than
handing it to a thread and back would. Writing units start ``BEGIN
IMMEDIATE``, so they are serialised by the database itself, across
processes too; when another process holds the write lock, the unit waits
for it asleep (``asyncio.sleep``, never blocking the loop) up to the
timeout, then answers 503. Reads run in autocommit and see committed data.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from referrals.adapters.sql.compiled import Compiled
from referrals.adapters.sql.database import Database
from referrals.adapters.sql.namespace import Namespace
from referrals.adapters.sql.outbox import (
    SqlOutbox,
    add_event_statement,
    add_login_statement,
    event_values,
    login_values,
)
from referrals.adapters.sql.repository import Row, SqlUserRepository
from referrals.adapters.sql.schema import revision_query
from referrals.adapters.sql.statements import Statements, statements_for
from referrals.application.errors import ServiceUnavailable
from referrals.application.ports import Referral
from referrals.domain.user import User

SQLITE_QUEUE_TIMEOUT = 30.0
"""Seconds a unit may wait in line for the connection before a 503."""
BUSY_RETRY = (0.001, 0.05)
"""First and longest sleep between tries while another process holds the write lock."""


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """A database that cannot be opened, read or locked is unavailable (503)."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise ServiceUnavailable("the database") from exc


def sqlite_path(url: str) -> str:
    """The file of ``sqlite:///path`` (or ``sqlite+aiosqlite:///path``)."""
    path = url.split("://", 1)[1]
    return path[1:] if path.startswith("/") else path


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or "locked" in str(exc)


class SqliteDatabase(Database):
    dialect = "sqlite"
    prepared_statements = True  # sqlite3 caches its own; there is no pooler between

    def __init__(self, url: str, namespace: Namespace, *, timeout: float) -> None:
        super().__init__(url, namespace)
        self.path = sqlite_path(url)
        self.timeout = timeout
        """Seconds a writing unit waits for another process's write lock."""
        self.statements: Statements = statements_for("sqlite", namespace)
        self._conn: sqlite3.Connection | None = None
        self._turn: asyncio.Lock | None = None

    def unit_of_work(
        self, *, read_only: bool = False, autocommit: bool = False
    ) -> SqliteUnitOfWork:
        # autocommit: a writing unit all the same (BEGIN IMMEDIATE waits for
        # another process's write lock; there are no round trips to save).
        return SqliteUnitOfWork(self, read_only=read_only)

    async def open(self) -> None:
        if self._conn is not None:
            return
        with translated_errors():
            # Autocommit at the driver; units send BEGIN IMMEDIATE / COMMIT.
            conn = sqlite3.connect(
                self.path, timeout=0, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA synchronous=NORMAL")
            except BaseException:
                conn.close()
                raise
        self._conn = conn

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    async def ping(self) -> None:
        async with self.unit_of_work(read_only=True) as unit:
            unit.connection.execute("SELECT 1").fetchone()

    async def revision(self) -> str | None:
        async with self.unit_of_work(read_only=True) as unit:
            try:
                row = unit.connection.execute(revision_query(self.namespace)).fetchone()
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return None
                raise ServiceUnavailable("the database") from exc
        return None if row is None else str(row[0])

    def connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the SQLite database is not open: await database.open() first")
        return self._conn

    def turn(self) -> asyncio.Lock:
        if self._turn is None:  # made in the loop that uses it
            self._turn = asyncio.Lock()
        return self._turn


class SqliteUserRepository(SqlUserRepository):
    """Users in SQLite, where one writer at a time holds the whole database."""

    dialect = "sqlite"

    async def _is_still_root(self, user_id: int) -> bool:
        return True  # BEGIN IMMEDIATE: no other unit writes until this one ends

    async def profile(
        self, user_id: int, after_rank: int, limit: int
    ) -> tuple[User, list[Referral]] | None:
        # Two statements: no round trips to save in-process, and the planner
        # would materialise the join.
        user = await self.get(user_id)
        if user is None:
            return None
        return user, await self._referrals_page(user_id, after_rank, limit)

    def _moment(self, at: datetime) -> datetime:
        return at.replace(tzinfo=None)  # kept as naive UTC text: compare like with like


class SqliteUnitOfWork:
    """The shared connection, held for the whole unit; a writing unit is one
    ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction, rolled back unless committed."""

    users: SqliteUserRepository
    outbox: SqlOutbox

    def __init__(self, database: SqliteDatabase, *, read_only: bool) -> None:
        self._database = database
        self._read_only = read_only
        self._in_transaction = False
        self._held = False

    @property
    def connection(self) -> sqlite3.Connection:
        if not self._held:
            raise RuntimeError("the unit of work is used outside its `async with` block")
        return self._database.connection()

    async def __aenter__(self) -> Self:
        database = self._database
        turn = database.turn()
        # Wait in line boundedly; a free turn (no holder, nobody queued) costs no timer.
        if turn.locked() or getattr(turn, "_waiters", None):
            try:
                async with asyncio.timeout(SQLITE_QUEUE_TIMEOUT):
                    await turn.acquire()
            except TimeoutError as exc:
                raise ServiceUnavailable("the database") from exc
        else:
            await turn.acquire()
        self._held = True
        try:
            if not self._read_only:
                await self._begin()
        except BaseException:
            self._held = False
            turn.release()
            raise
        self.users = SqliteUserRepository(self, database.statements)
        self.outbox = SqlOutbox()
        return self

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE, waiting asleep while another process writes."""
        conn = self.connection
        deadline = time.monotonic() + self._database.timeout
        pause = BUSY_RETRY[0]
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() + pause > deadline:
                    raise ServiceUnavailable("the database") from exc
                await asyncio.sleep(pause)
                pause = min(pause * 2, BUSY_RETRY[1])
            else:
                self._in_transaction = True
                return

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._in_transaction:
                self._in_transaction = False
                with contextlib.suppress(sqlite3.Error):
                    self.connection.execute("ROLLBACK")
        finally:
            self._held = False
            self._database.turn().release()

    async def commit(self) -> None:
        insert = add_event_statement("sqlite", self._database.namespace)
        welcome = self._database.statements.welcome_user
        with translated_errors():
            for user_id, created in self.outbox.take_welcomes():  # user.created goes first
                if await self.rowcount(welcome, user_id=user_id) == 1 and created is not None:
                    self.connection.execute(insert.sql, insert.args(event_values(created)))
            for event in self.outbox.take():
                self.connection.execute(insert.sql, insert.args(event_values(event)))
            record = add_login_statement("sqlite", self._database.namespace)
            for login in self.outbox.take_logins():
                self.connection.execute(record.sql, record.args(login_values(login)))
            self.connection.execute("COMMIT")
        self._in_transaction = False

    # Executor: what the repository runs its statements through.

    async def one(self, statement: Compiled, **values: Any) -> Row | None:
        with translated_errors():
            row: Row | None = self.connection.execute(
                statement.sql, statement.args(values)
            ).fetchone()
        return row

    async def all(self, statement: Compiled, **values: Any) -> list[Row]:
        with translated_errors():
            return self.connection.execute(statement.sql, statement.args(values)).fetchall()

    async def rowcount(self, statement: Compiled, **values: Any) -> int:
        with translated_errors():
            return self.connection.execute(statement.sql, statement.args(values)).rowcount
