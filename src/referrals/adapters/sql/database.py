"""What the PostgreSQL and SQLite adapters share, and how one is chosen from a URL."""

from __future__ import annotations

import asyncio
import sys
from abc import ABC, abstractmethod

from referrals.adapters.sql.namespace import Namespace
from referrals.adapters.sql.schema import HEAD, ensure_current
from referrals.application.ports import UnitOfWork


class Database(ABC):
    """One database: units of work on it, its schema, and a cheap health check.

    Build one with :func:`open_database`, :meth:`open` it before use (a
    no-op where there is nothing to open) and :meth:`close` it at the end.
    """

    dialect: str
    """``postgresql`` or ``sqlite``."""
    prepared_statements: bool
    """Whether statements may be prepared on the server (not behind PgBouncer
    in transaction mode)."""

    def __init__(self, url: str, namespace: Namespace) -> None:
        self.url = url
        self.namespace = namespace
        """Our tables' prefix and schema in this database."""

    @abstractmethod
    def unit_of_work(self, *, read_only: bool = False, autocommit: bool = False) -> UnitOfWork:
        """A :class:`~referrals.application.ports.UnitOfWork`; see the adapters."""

    @abstractmethod
    async def open(self) -> None:
        """Connect (PostgreSQL: fill the pool). Raises ``ServiceUnavailable``."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> None:
        """One round trip; raises ``ServiceUnavailable`` when the database does not answer."""

    @abstractmethod
    async def revision(self) -> str | None:
        """The migration the schema is at (None: no schema)."""

    async def migrate(self) -> None:
        """Bring the schema to the latest migration (Alembic, in a thread)."""
        from referrals.adapters.sql.migrate import migrate

        await asyncio.to_thread(
            migrate, self.url, self.namespace, prepared_statements=self.prepared_statements
        )

    async def check_schema(self) -> None:
        """Raise :class:`~referrals.adapters.sql.schema.SchemaOutdated` unless the
        schema is at the latest migration."""
        ensure_current(await self.revision())

    async def prepare(self) -> None:
        """What serving does at start: open, then check the schema (SQLite migrates itself)."""
        await self.open()
        try:
            if self.dialect == "sqlite" and await self.revision() != HEAD:
                await self.migrate()
            await self.check_schema()
        except BaseException:
            await self.close()
            raise

    async def dispose(self) -> None:
        """Alias of :meth:`close`."""
        await self.close()


def open_database(
    url: str,
    *,
    namespace: Namespace,
    pool_size: int,
    timeout: float,
    prepared_statements: bool,
) -> Database:
    """The adapter for ``url`` (``postgresql…://`` or ``sqlite…://``); not yet opened.

    ``namespace``: our tables' prefix and schema (see ``docs/host-database.md``).
    ``pool_size``: PostgreSQL connections, all opened by :meth:`Database.open`
    and kept. ``timeout``: seconds for connecting, waiting for a pooled
    connection, and (twice it) any one round trip. ``prepared_statements``:
    False behind PgBouncer in transaction mode.
    """
    if url.startswith("sqlite"):
        from referrals.adapters.sql.sqlite import SqliteDatabase

        return SqliteDatabase(url, namespace, timeout=timeout)
    from referrals.adapters.sql.postgres import PostgresDatabase

    return PostgresDatabase(
        url,
        namespace,
        pool_size=pool_size,
        timeout=timeout,
        prepared_statements=prepared_statements,
    )


async def run_migrations(url: str, namespace: Namespace, *, prepared_statements: bool) -> None:
    """Used by ``referrals migrate``: bring the schema to the latest migration."""
    from referrals.adapters.sql.migrate import migrate

    await asyncio.to_thread(migrate, url, namespace, prepared_statements=prepared_statements)


async def prepare_database(
    url: str,
    namespace: Namespace,
    *,
    timeout: float,  # noqa: ASYNC109 (handed to the adapter, which bounds each step)
    prepared_statements: bool,
) -> None:
    """Used by ``referrals serve`` before it serves: SQLite is migrated (in a child
    process, so the server's own never loads Alembic), PostgreSQL checked."""
    database = open_database(
        url,
        namespace=namespace,
        pool_size=1,
        timeout=timeout,
        prepared_statements=prepared_statements,
    )
    await database.open()
    try:
        revision = await database.revision()
    finally:
        await database.close()
    if database.dialect == "sqlite" and revision != HEAD:
        await _migrate_in_child(url, namespace)
    else:
        ensure_current(revision)


async def _migrate_in_child(url: str, namespace: Namespace) -> None:
    schema = () if namespace.schema is None else (namespace.schema,)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "referrals.adapters.sql.migrate", url, namespace.prefix, *schema
    )
    if await process.wait() != 0:
        raise RuntimeError(f"migrating {url} failed (exit status {process.returncode})")
