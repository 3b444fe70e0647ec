"""The schema's migrations (Alembic), on a synchronous SQLAlchemy connection.

Only ``referrals migrate``, the SQLite self-migration at start-up, a host's
own Alembic ``env.py`` (see ``docs/host-database.md``) and tests import
this module; a running API reads the revision with plain SQL
(``schema.py``), so Alembic and SQLAlchemy's engines stay out of its memory.

Our history is kept in its own version table (``<prefix>alembic_version``),
so it never meets a host's revisions. :func:`upgrade` runs it on a
connection it is handed, without an Alembic ``env.py``: a host runs it from
its own ``env.py`` after its own history, in the same transaction.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine

from referrals.adapters.sql.legacy import adopt_legacy_version
from referrals.adapters.sql.namespace import Namespace
from referrals.adapters.sql.schema import ADVISORY_LOCK
from referrals.adapters.sql.tables import tables_for

LOG = logging.getLogger("referrals.migrations")
MIGRATIONS = Path(__file__).with_name("migrations")
NAMESPACE_OPTION = "referrals_namespace"
"""Where the migration scripts find the :class:`Namespace` they work in."""


def scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def alembic_head() -> str | None:
    """The latest revision as Alembic reads it from the migration scripts."""
    return scripts().get_current_head()


@contextlib.contextmanager
def quiet_alembic() -> Iterator[None]:
    """Alembic's INFO lines (a line per revision, with its docstring) kept out
    of a host's logs: the ``alembic`` logger is set to WARNING for the while,
    unless someone set its level (an ``alembic.ini``, a host that asks)."""
    logger = logging.getLogger("alembic")
    if logger.level != logging.NOTSET:
        yield
        return
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(logging.NOTSET)


def upgrade(connection: Connection, namespace: Namespace, *, to: str = "head") -> None:
    """Bring our tables in ``namespace`` to the latest migration (or revision
    ``to``), inside the connection's transaction (the caller commits).
    Idempotent; on PostgreSQL two processes migrating at once take turns
    instead of colliding. Logs one line at INFO on ``referrals.migrations``
    when it moved the schema; Alembic's own lines only if asked for (see
    :func:`quiet_alembic`)."""
    with quiet_alembic():
        before = current_revision(connection, namespace)
        _upgrade(connection, namespace, to)
        after = current_revision(connection, namespace)
    if after != before:
        where = namespace.qualified("*")
        LOG.info("the tables %s moved from %s to %s", where, before or "nothing", after)


def _upgrade(connection: Connection, namespace: Namespace, to: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
        if namespace.schema is not None:
            connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{namespace.schema}"')
    adopt_legacy_version(connection, namespace)
    script = scripts()
    context = MigrationContext.configure(
        connection,
        opts={
            "version_table": namespace.version_table,
            "version_table_schema": namespace.schema,
            "target_metadata": tables_for(namespace).metadata,
            "render_as_batch": connection.dialect.name == "sqlite",
            "fn": lambda revision, _: script._upgrade_revs(to, revision),
            NAMESPACE_OPTION: namespace,
        },
    )
    with Operations.context(context):
        context.run_migrations()


def current_revision(connection: Connection, namespace: Namespace) -> str | None:
    """The revision our tables in ``namespace`` are at (None: none of ours yet)."""
    context = MigrationContext.configure(
        connection,
        opts={"version_table": namespace.version_table, "version_table_schema": namespace.schema},
    )
    return context.get_current_revision()


def sqlalchemy_url(url: str) -> str:
    """The synchronous SQLAlchemy URL of a ``REFERRALS_DATABASE_URL``."""
    scheme, rest = url.split("://", 1)
    if scheme.startswith("sqlite"):
        return "sqlite://" + rest
    return "postgresql+psycopg://" + rest


def migrate(url: str, namespace: Namespace, *, prepared_statements: bool) -> None:
    """Bring the schema to the latest migration (idempotent, safe to race). Blocks."""
    connect_args: dict[str, Any] = {}
    if not prepared_statements and not url.startswith("sqlite"):
        connect_args["prepare_threshold"] = None  # PgBouncer in transaction mode
    engine = create_engine(sqlalchemy_url(url), connect_args=connect_args)
    try:
        with engine.begin() as connection:
            upgrade(connection, namespace)
    finally:
        engine.dispose()


if __name__ == "__main__":  # python -m referrals.adapters.sql.migrate URL PREFIX [SCHEMA]
    namespace = Namespace(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    migrate(sys.argv[1], namespace, prepared_statements=True)  # SQLite: serving migrates it
