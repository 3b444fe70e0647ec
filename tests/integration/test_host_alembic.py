"""A host's own Alembic ``env.py`` that runs its history and ours
(``examples/alembic_host``), on PostgreSQL: the example's own tests run it
on SQLite, from the wheel too."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from referrals.adapters.sql import open_database
from referrals.adapters.sql.migrate import alembic_head, sqlalchemy_url
from tests.conftest import sqlalchemy_engine
from tests.defaults import DATABASE
from tests.namespaces import NAMESPACE
from tests.packaging.venvs import ROOT

pytestmark = pytest.mark.postgres

MIGRATIONS = ROOT / "examples" / "alembic_host" / "migrations"


def _host_upgrade(url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url))
    command.upgrade(config, "head")


def _column(url: str, sql: str) -> list[object]:
    with sqlalchemy_engine(url) as engine, engine.connect() as conn:
        return list(conn.execute(text(sql)).scalars())


async def test_a_hosts_env_py_migrates_its_history_and_ours_on_postgresql(
    empty_postgres_url: str,
) -> None:
    with sqlalchemy_engine(empty_postgres_url) as engine, engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE users (id SERIAL PRIMARY KEY, email TEXT NOT NULL)")
        conn.exec_driver_sql("INSERT INTO users (email) VALUES ('ann@example.com')")
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('host_0001')")

    _host_upgrade(empty_postgres_url)
    _host_upgrade(empty_postgres_url)  # and again: nothing left to do

    assert _column(empty_postgres_url, "SELECT email FROM users") == ["ann@example.com"]
    assert _column(empty_postgres_url, "SELECT version_num FROM alembic_version") == ["host_0002"]
    ours = _column(empty_postgres_url, "SELECT version_num FROM referrals_alembic_version")
    assert ours == [alembic_head()]
    database = open_database(empty_postgres_url, namespace=NAMESPACE, **DATABASE)
    await database.prepare()  # the runtime finds our schema at its head
    await database.close()
