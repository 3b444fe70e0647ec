"""The schema's migrations (Alembic), run on connections ``Database`` hands in."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).with_name("migrations")
ADVISORY_LOCK = 7311227
"""PostgreSQL advisory lock id held while migrating."""


class SchemaOutdated(RuntimeError):
    """The database is not at the latest migration: run ``referrals migrate``."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Two processes migrating at once take turns instead of colliding.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
    command.upgrade(alembic_config(connection), "head")


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def ensure_current(revision: str | None) -> None:
    """Raise :class:`SchemaOutdated` unless ``revision`` is the latest migration."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision != head:
        raise SchemaOutdated(
            f"the database schema is at {revision or 'nothing'}, not {head}:"
            " run `referrals migrate`"
        )
