"""Our tables in a host's database: a prefix, a schema of their own, and the
move of a database made before the prefix (``users``, ``alembic_version``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect, text

from referrals.adapters.sql import Namespace, open_database
from referrals.adapters.sql.migrate import migrate
from referrals.adapters.sql.schema import HEAD
from referrals.adapters.sql.tables import tables_for
from referrals.domain.phone import Phone
from tests.conftest import sqlalchemy_engine
from tests.defaults import DATABASE
from tests.namespaces import NAMESPACE

LEGACY = Path(__file__).with_name("legacy")
ROOT, REFERRED = "+79990000001", "+79990000002"


def _run_script(connection: Connection, path: Path) -> None:
    for statement in path.read_text().split(";"):
        lines = [line for line in statement.splitlines() if not line.startswith("--")]
        if "".join(lines).strip():
            connection.exec_driver_sql("\n".join(lines))


def _legacy_database(url: str, dialect: str, *, host_revision: str | None = None) -> None:
    """A database at revision 0003 as the version before the prefix left it,
    with two users, one referred by the other (and a host's revision beside ours)."""
    with sqlalchemy_engine(url) as engine, engine.begin() as conn:
        _run_script(conn, LEGACY / f"{dialect}_0003.sql")
        conn.execute(
            text("INSERT INTO users (phone, invite_code) VALUES (:a, 'AAAAAA'), (:b, 'BBBBBB')"),
            {"a": ROOT, "b": REFERRED},
        )
        conn.execute(
            text(
                "UPDATE users SET referrer_id = 1, used_invite_code = 'AAAAAA',"
                " referral_rank = 1 WHERE id = 2"
            )
        )
        conn.execute(text("UPDATE users SET referred_count = 1 WHERE id = 1"))
        if host_revision is not None:
            conn.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:r)"), {"r": host_revision}
            )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/legacy.sqlite3"
    else:
        yield request.getfixturevalue("empty_postgres_url")


def _dialect(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _tables(url: str, schema: str | None = None) -> set[str]:
    with sqlalchemy_engine(url) as engine, engine.connect() as conn:
        return set(inspect(conn).get_table_names(schema=schema))


async def _read_users(url: str, namespace: Namespace) -> tuple[object, object]:
    database = open_database(url, namespace=namespace, **DATABASE)
    await database.prepare()
    try:
        async with database.unit_of_work() as unit:
            root = await unit.users.get_by_phone(Phone(ROOT))
            assert root is not None
            profile = await unit.users.profile(root.id, 0, 10)
            added = await unit.users.add(Phone("+79990000003"), root.invite_code, "x")
            assert added is None  # the unique invite code survived the move
        return root, profile
    finally:
        await database.close()


async def test_a_database_from_before_the_prefix_is_moved_with_its_data(empty_url: str) -> None:
    _legacy_database(empty_url, _dialect(empty_url))

    migrate(empty_url, NAMESPACE, prepared_statements=True)
    migrate(empty_url, NAMESPACE, prepared_statements=True)  # and again: nothing left to do

    assert _tables(empty_url) == {
        table.name for table in tables_for(NAMESPACE).metadata.sorted_tables
    } | {"referrals_alembic_version"}
    _, profile = await _read_users(empty_url, NAMESPACE)
    assert profile is not None
    user, page = profile  # type: ignore[misc]
    assert (user.referred_count, [str(r.phone) for r in page]) == (1, [REFERRED])
    with sqlalchemy_engine(empty_url) as engine, engine.begin() as conn:
        version = conn.execute(text("SELECT version_num FROM referrals_alembic_version"))
        assert version.scalars().all() == [HEAD]
        # The identity goes on from where it was (PostgreSQL's sequence was renamed too).
        new = conn.execute(
            text(
                "INSERT INTO referrals_users (phone, invite_code)"
                " VALUES ('+79990000009', 'CCCCCC') RETURNING id"
            )
        )
        assert new.scalar() > 2


@pytest.mark.postgres
def test_the_moved_constraints_index_and_sequence_carry_the_new_name(
    empty_postgres_url: str,
) -> None:
    _legacy_database(empty_postgres_url, "postgresql")
    migrate(empty_postgres_url, NAMESPACE, prepared_statements=True)
    with sqlalchemy_engine(empty_postgres_url) as engine, engine.connect() as conn:
        names = set(
            conn.execute(
                text(
                    "SELECT conname FROM pg_constraint WHERE conrelid = 'referrals_users'::regclass"
                    " UNION SELECT relname FROM pg_class WHERE relkind IN ('i', 'S')"
                    " AND relnamespace = 'public'::regnamespace"
                )
            ).scalars()
        )
    assert {name for name in names if "users" in name and "referrals_users" not in name} == set()
    assert {"pk_referrals_users", "referrals_users_id_seq"} <= names


async def test_a_hosts_revision_in_the_shared_version_table_is_left_to_the_host(
    empty_url: str,
) -> None:
    _legacy_database(empty_url, _dialect(empty_url), host_revision="host_0007")

    migrate(empty_url, NAMESPACE, prepared_statements=True)

    with sqlalchemy_engine(empty_url) as engine, engine.connect() as conn:
        kept = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert kept == ["host_0007"]
    await _read_users(empty_url, NAMESPACE)


async def test_a_hosts_own_users_table_and_history_are_left_alone(empty_url: str) -> None:
    with sqlalchemy_engine(empty_url) as engine, engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(80))")
        conn.exec_driver_sql("INSERT INTO users (id, email) VALUES (1, 'host@example.com')")
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0003')")  # the host's own 0003

    migrate(empty_url, NAMESPACE, prepared_statements=True)

    assert _tables(empty_url) >= {"users", "alembic_version", "referrals_users"}
    with sqlalchemy_engine(empty_url) as engine, engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT email FROM users").scalars().all() == [
            "host@example.com"
        ]
        assert conn.exec_driver_sql("SELECT * FROM alembic_version").scalars().all() == ["0003"]
    database = open_database(empty_url, namespace=NAMESPACE, **DATABASE)
    await database.prepare()
    await database.close()


@pytest.mark.postgres
@pytest.mark.parametrize("prepared_statements", [True, False], ids=["direct", "pooler-switch"])
async def test_a_schema_and_prefix_of_our_own_are_used_by_migrations_and_the_runtime(
    empty_postgres_url: str, prepared_statements: bool
) -> None:
    namespace = Namespace("acme_", "referrals")
    migrate(empty_postgres_url, namespace, prepared_statements=True)
    assert {"acme_users", "acme_outbox", "acme_alembic_version"} <= _tables(
        empty_postgres_url, "referrals"
    )
    assert "acme_users" not in _tables(empty_postgres_url)

    database = open_database(
        empty_postgres_url,
        namespace=namespace,
        **(DATABASE | {"prepared_statements": prepared_statements}),
    )
    await database.prepare()
    try:
        async with database.unit_of_work() as unit:
            assert await unit.users.add(Phone(ROOT), _code("AAAAAA"), "t") is not None
            await unit.commit()
    finally:
        await database.close()


@pytest.mark.postgres
async def test_the_urls_own_search_path_is_kept_at_runtime(empty_postgres_url: str) -> None:
    with sqlalchemy_engine(empty_postgres_url) as engine, engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA hosted")
    url = f"{empty_postgres_url}?options=-csearch_path%3Dhosted"
    migrate(url, NAMESPACE, prepared_statements=True)
    assert "referrals_users" in _tables(empty_postgres_url, "hosted")

    database = open_database(url, namespace=NAMESPACE, **DATABASE)
    await database.prepare()  # found the schema at HEAD through the URL's search_path
    await database.close()


def _code(value: str) -> object:
    from referrals.domain.codes import InviteCode

    return InviteCode(value)
