"""The migrated schema: what the tables module says, and rules the database enforces."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, insert, text, update
from sqlalchemy.exc import IntegrityError

from referrals.adapters.sql import Database
from referrals.adapters.sql.migrate import alembic_head, upgrade
from referrals.adapters.sql.schema import HEAD
from referrals.adapters.sql.sqlite import SqliteDatabase
from referrals.adapters.sql.tables import tables_for
from referrals.domain.user import COOLDOWN_UNKNOWN
from tests.conftest import sqlalchemy_engine
from tests.namespaces import NAMESPACE

tables = tables_for(NAMESPACE)
users = tables.users

DATABASES = ["sqlite_database", pytest.param("postgres_database", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest) -> Database:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


@pytest.fixture
def engine(database: Database) -> Iterator[Engine]:
    with sqlalchemy_engine(database.url) as engine:
        yield engine


def test_the_schema_check_knows_the_latest_migration() -> None:
    assert alembic_head() == HEAD


async def test_a_migrated_database_reports_the_latest_revision(database: Database) -> None:
    assert await database.revision() == HEAD
    await database.check_schema()


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "version_table": NAMESPACE.version_table}
    )
    return list(compare_metadata(context, tables.metadata))


async def test_sqlite_units_enforce_foreign_keys(sqlite_database: SqliteDatabase) -> None:
    async with sqlite_database.unit_of_work(read_only=True) as unit:
        assert unit.connection.execute("PRAGMA foreign_keys").fetchone() == (1,)


def test_the_migrations_build_exactly_the_tables_module(engine: Engine) -> None:
    with engine.connect() as conn:
        assert _differences(conn) == []


def insert_user(conn: Connection, user_id: int, phone: str, code: str) -> None:
    conn.execute(insert(users).values(id=user_id, phone=phone, invite_code=code))


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        (insert(users).values(id=3, phone="+79990000001", invite_code="CCCCCC"), "phone"),
        (insert(users).values(id=3, phone="+79990000003", invite_code="AAAAAA"), "invite"),
        (
            update(users)
            .where(users.c.id == 1)
            .values(referrer_id=1, used_invite_code="AAAAAA", referral_rank=1),
            "own referrer",
        ),
        (
            update(users)
            .where(users.c.id == 1)
            .values(referrer_id=99, used_invite_code="ZZZZZZ", referral_rank=1),
            "foreign key",
        ),
        (update(users).where(users.c.id == 1).values(referrer_id=2), "half a referral"),
        (update(users).where(users.c.id == 1).values(referred_count=-1), "negative count"),
    ],
)
def test_the_database_refuses_what_the_rules_forbid(
    engine: Engine, statement: object, constraint: str
) -> None:
    with engine.begin() as conn:
        insert_user(conn, 1, "+79990000001", "AAAAAA")
        insert_user(conn, 2, "+79990000002", "BBBBBB")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(statement)  # type: ignore[call-overload]


def test_two_referrals_cannot_share_a_rank_under_one_referrer(engine: Engine) -> None:
    with engine.begin() as conn:
        for i, code in enumerate(["AAAAAA", "BBBBBB", "CCCCCC"], start=1):
            insert_user(conn, i, f"+7999000000{i}", code)
        conn.execute(
            update(users)
            .where(users.c.id == 2)
            .values(referrer_id=1, used_invite_code="AAAAAA", referral_rank=1)
        )
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            update(users)
            .where(users.c.id == 3)
            .values(referrer_id=1, used_invite_code="AAAAAA", referral_rank=1)
        )


@pytest.mark.postgres
def test_a_page_of_referrals_is_an_index_range_scan(postgres_database: Database) -> None:
    with sqlalchemy_engine(postgres_database.url) as engine, engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO referrals_users (id, phone, invite_code)"
                " VALUES (1, '+79990000000', 'ROOT00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO referrals_users (id, phone, invite_code, referrer_id,"
                " used_invite_code, referral_rank) SELECT n + 1, '+7999' || lpad(n::text, 7, '0'),"
                " lpad(upper(to_hex(n)), 6, 'Z'), 1, 'ROOT00', n FROM generate_series(1, 20000) n"
            )
        )
        conn.execute(text("ANALYZE referrals_users"))
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                text(
                    "EXPLAIN SELECT referral_rank, phone FROM referrals_users WHERE referrer_id = 1"
                    " AND referral_rank > 15000 ORDER BY referral_rank LIMIT 101"
                )
            )
        )
    assert "ix_referrals_users_referrer_id_referral_rank" in plan, plan
    assert "Sort" not in plan, plan


def test_upgrading_to_0003_counts_every_existing_user_as_welcomed(tmp_path: Path) -> None:
    """0003: ``created_by`` now means "no login succeeded yet"; the users of an
    older schema all logged in (a login created each), so none stays new."""
    engine = create_engine(f"sqlite:///{tmp_path}/old.sqlite3")
    try:
        with engine.begin() as conn:
            upgrade(conn, NAMESPACE, to="0002")
            conn.execute(
                insert(users).values(
                    id=1, phone="+79990000001", invite_code="AAAAAA", created_by="a" * 32
                )
            )
        with engine.begin() as conn:
            upgrade(conn, NAMESPACE)
            assert conn.execute(text("SELECT created_by FROM referrals_users")).all() == [(None,)]
    finally:
        engine.dispose()


A_REFERRAL = [
    {
        "id": 1,
        "phone": "+79990000001",
        "invite_code": "AAAAAA",
        "referrer_id": None,
        "used_invite_code": None,
        "referral_rank": None,
    },
    {  # an executemany: every row names the same columns (else they are dropped)
        "id": 2,
        "phone": "+79990000002",
        "invite_code": "BBBBBB",
        "referrer_id": 1,
        "used_invite_code": "AAAAAA",
        "referral_rank": 1,
    },
]
"""User 2 applied user 1's code."""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/old.sqlite3"
    return request.getfixturevalue("empty_postgres_url")  # type: ignore[no-any-return]


def test_upgrading_to_0007_keeps_every_referral_applied_and_every_login(empty_url: str) -> None:
    """0007: referrals made before referral integrity were applied outright
    (no status, no signals); logins before it carry no device key."""
    with sqlalchemy_engine(empty_url) as engine:
        with engine.begin() as conn:
            upgrade(conn, NAMESPACE, to="0006")
            conn.execute(insert(users), A_REFERRAL)
            history = tables.login_history
            conn.execute(
                insert(history).values(user_id=2, logged_in_at=1.0, network="", user_agent="")
            )
        with engine.begin() as conn:
            upgrade(conn, NAMESPACE)
            rows = conn.execute(
                text(
                    "SELECT id, referral_status, referral_signals FROM referrals_users ORDER BY id"
                )
            ).all()
            assert [tuple(row) for row in rows] == [(1, None, None), (2, None, None)]
            devices = conn.execute(text("SELECT device FROM referrals_login_history")).all()
            assert [tuple(row) for row in devices] == [("",)]


def test_upgrading_to_0008_sends_who_has_not_applied_to_the_cooldowns_store(
    empty_url: str,
) -> None:
    """0008: a user who had not applied a code may be on a cooled-down number,
    which only the cooldowns' store knows (``COOLDOWN_UNKNOWN``); one who
    applied is past the rule."""
    with sqlalchemy_engine(empty_url) as engine:
        with engine.begin() as conn:
            upgrade(conn, NAMESPACE, to="0007")
            conn.execute(insert(users), A_REFERRAL)
        with engine.begin() as conn:
            upgrade(conn, NAMESPACE)
            rows = conn.execute(
                text("SELECT id, cooldown_until FROM referrals_users ORDER BY id")
            ).all()
            assert [tuple(row) for row in rows] == [(1, COOLDOWN_UNKNOWN), (2, None)]
