"""The schema's migrations (Alembic), on a synchronous SQLAlchemy engine.

Only ``referrals migrate``, the SQLite self-migration at start-up and tests
import this module; a running API reads the revision with plain SQL
(``schema.py``), so Alembic and SQLAlchemy's engines stay out of its memory.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine

from referrals.adapters.sql.schema import ADVISORY_LOCK

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def alembic_head() -> str | None:
    """The latest revision as Alembic reads it from the migration scripts."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Two processes migrating at once take turns instead of colliding.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
    command.upgrade(alembic_config(connection), "head")


def sqlalchemy_url(url: str) -> str:
    """The synchronous SQLAlchemy URL of a ``REFERRALS_DATABASE_URL``."""
    scheme, rest = url.split("://", 1)
    if scheme.startswith("sqlite"):
        return "sqlite://" + rest
    return "postgresql+psycopg://" + rest


def migrate(url: str, *, prepared_statements: bool = True) -> None:
    """Bring the schema to the latest migration (idempotent, safe to race). Blocks."""
    connect_args: dict[str, Any] = {}
    if not prepared_statements and not url.startswith("sqlite"):
        connect_args["prepare_threshold"] = None  # PgBouncer in transaction mode
    engine = create_engine(sqlalchemy_url(url), connect_args=connect_args)
    try:
        with engine.begin() as connection:
            upgrade(connection)
    finally:
        engine.dispose()


if __name__ == "__main__":  # python -m referrals.adapters.sql.migrate URL (see SqliteDatabase)
    migrate(sys.argv[1])
