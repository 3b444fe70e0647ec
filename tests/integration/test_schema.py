"""The migrated schema: what the tables module says, and rules the database enforces."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, insert, text, update
from sqlalchemy.exc import IntegrityError

from referrals.adapters.sql import Database
from referrals.adapters.sql.tables import metadata, users

DATABASES = ["sqlite_database", pytest.param("postgres_database", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest) -> Database:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_the_migrations_build_exactly_the_tables_module(database: Database) -> None:
    async with database.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


async def insert_user(conn: object, user_id: int, phone: str, code: str) -> None:
    await conn.execute(insert(users).values(id=user_id, phone=phone, invite_code=code))  # type: ignore[attr-defined]


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
async def test_the_database_refuses_what_the_rules_forbid(
    database: Database, statement: object, constraint: str
) -> None:
    async with database.engine.begin() as conn:
        await insert_user(conn, 1, "+79990000001", "AAAAAA")
        await insert_user(conn, 2, "+79990000002", "BBBBBB")
    with pytest.raises(IntegrityError):
        async with database.engine.begin() as conn:
            await conn.execute(statement)  # type: ignore[call-overload]


async def test_two_referrals_cannot_share_a_rank_under_one_referrer(database: Database) -> None:
    async with database.engine.begin() as conn:
        for i, code in enumerate(["AAAAAA", "BBBBBB", "CCCCCC"], start=1):
            await insert_user(conn, i, f"+7999000000{i}", code)
        await conn.execute(
            update(users)
            .where(users.c.id == 2)
            .values(referrer_id=1, used_invite_code="AAAAAA", referral_rank=1)
        )
    with pytest.raises(IntegrityError):
        async with database.engine.begin() as conn:
            await conn.execute(
                update(users)
                .where(users.c.id == 3)
                .values(referrer_id=1, used_invite_code="AAAAAA", referral_rank=1)
            )


@pytest.mark.postgres
async def test_a_page_of_referrals_is_an_index_range_scan(postgres_database: Database) -> None:
    async with postgres_database.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO users (id, phone, invite_code) VALUES (1, '+79990000000', 'ROOT00')")
        )
        await conn.execute(
            text(
                "INSERT INTO users (id, phone, invite_code, referrer_id, used_invite_code,"
                " referral_rank) SELECT n + 1, '+7999' || lpad(n::text, 7, '0'),"
                " lpad(upper(to_hex(n)), 6, 'Z'), 1, 'ROOT00', n FROM generate_series(1, 20000) n"
            )
        )
        await conn.execute(text("ANALYZE users"))
        plan = "\n".join(
            row[0]
            for row in await conn.execute(
                text(
                    "EXPLAIN SELECT referral_rank, phone FROM users WHERE referrer_id = 1"
                    " AND referral_rank > 15000 ORDER BY referral_rank LIMIT 101"
                )
            )
        )
    assert "ix_users_referrer_id_referral_rank" in plan, plan
    assert "Sort" not in plan, plan
