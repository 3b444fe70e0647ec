"""The host's Alembic environment: its own history first, then referrals'
(``alembic upgrade head`` runs both; on PostgreSQL in one transaction).

referrals' history keeps its revision in a version table of its own
(``referrals_alembic_version``) and its tables carry a prefix
(``referrals_users``), so the two never meet: the host's ``users`` table
and ``alembic_version`` are its own. See docs/host-database.md.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from referrals.adapters.sql import Namespace
from referrals.adapters.sql.migrate import upgrade as upgrade_referrals

REFERRALS = Namespace("referrals_", None)  # REFERRALS_DB_TABLE_PREFIX, REFERRALS_DB_SCHEMA


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise SystemExit("set sqlalchemy.url in the Alembic configuration")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()  # the host's history, in alembic_version
                upgrade_referrals(connection, REFERRALS)  # referrals', in its own version table
            if connection.in_transaction():  # SQLite: Alembic commits per migration, ours is open
                connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported by this host")
run_migrations_online()
