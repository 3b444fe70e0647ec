"""Shared fixtures: real PostgreSQL and Redis servers, each test in its own space.

``REFERRALS_TEST_POSTGRES_URL`` (an admin URL; default the local server's
``postgres`` database) and ``REFERRALS_TEST_REDIS_URL`` (default
``redis://127.0.0.1:6379/0``) point at the servers. A session creates its
own database and drops it at the end; each Redis test gets its own key
prefix, deleted afterwards. Without a server the tests that need it are
skipped, except under ``CI=true``, where a missing server fails the run.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest
import redis
import redis.asyncio
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from referrals.adapters.sql import Database, open_database
from referrals.adapters.sql.migrate import sqlalchemy_url
from referrals.adapters.sql.tables import tables_for
from tests.defaults import DATABASE
from tests.namespaces import NAMESPACE

POSTGRES_ADMIN_URL = os.environ.get(
    "REFERRALS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("REFERRALS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable: {error}"
    if IN_CI:
        pytest.fail(message + " (CI=true: services are required)")
    pytest.skip(message)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def _new_postgres_database() -> Iterator[str]:
    name = f"referrals_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(_libpq(POSTGRES_ADMIN_URL), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL", exc)
        raise
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(_libpq(POSTGRES_ADMIN_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test session's own (migrated by ``_postgres_migrated``)."""
    with _new_postgres_database() as url:
        yield url


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, with no schema at all."""
    with _new_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def _postgres_migrated(postgres_url: str) -> str:
    import asyncio

    from referrals.adapters.sql.database import run_migrations

    asyncio.run(run_migrations(postgres_url, NAMESPACE, prepared_statements=True))
    return postgres_url


@pytest.fixture
async def postgres_database(_postgres_migrated: str) -> AsyncIterator[Database]:
    """The session's PostgreSQL database, emptied for this test."""
    with sqlalchemy_engine(_postgres_migrated) as engine, engine.begin() as conn:
        every = ", ".join(table.name for table in tables_for(NAMESPACE).metadata.sorted_tables)
        conn.exec_driver_sql(f"TRUNCATE {every} RESTART IDENTITY")
    database = open_database(
        _postgres_migrated, namespace=NAMESPACE, **(DATABASE | {"pool_size": 20})
    )
    await database.open()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture(scope="session")
def pgbouncer_url(_postgres_migrated: str) -> Iterator[str]:
    """The session's PostgreSQL database through a PgBouncer of its own in
    transaction mode (started on first use, stopped at the end)."""
    from tests.pgbouncer import pgbouncer

    with pgbouncer(_postgres_migrated) as url:
        yield url


@pytest.fixture
async def pgbouncer_database(
    pgbouncer_url: str, postgres_database: Database
) -> AsyncIterator[Database]:
    """The session's database (emptied, as ``postgres_database``) through
    PgBouncer in transaction mode, as ``REFERRALS_DB_TRANSACTION_POOLER=true`` opens it."""
    database = open_database(
        pgbouncer_url, namespace=NAMESPACE, **(DATABASE | {"prepared_statements": False})
    )
    await database.open()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def sqlite_database(tmp_path: os.PathLike[str]) -> AsyncIterator[Database]:
    """A migrated SQLite database in a file of this test's own."""
    database = open_database(
        f"sqlite:///{tmp_path}/referrals.sqlite3", namespace=NAMESPACE, **DATABASE
    )
    await database.migrate()
    await database.open()
    try:
        yield database
    finally:
        await database.close()


@contextlib.contextmanager
def sqlalchemy_engine(url: str) -> Iterator[Engine]:
    """A synchronous SQLAlchemy engine on a database's URL, for tests that look
    at the schema or the rows themselves (blocking: fine in a test)."""
    engine = create_engine(sqlalchemy_url(url))
    if engine.dialect.name == "sqlite":  # as SqliteDatabase's own connection

        @event.listens_for(engine, "connect")
        def _foreign_keys(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA foreign_keys=ON")

    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def redis_server_url() -> str:
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    return REDIS_URL


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """A three-primary Redis Cluster of this test session's own, on spare
    ports (``redis+cluster://…``), started on first use and stopped at the end."""
    from tests.servers import redis_cluster

    with redis_cluster() as cluster:
        yield cluster.url


@pytest.fixture
def redis_prefix(redis_server_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"referrals-test:{secrets.token_hex(6)}:"
    yield prefix
    client = redis.Redis.from_url(redis_server_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
async def redis_client(redis_server_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_server_url)
    try:
        yield client
    finally:
        await client.aclose()
