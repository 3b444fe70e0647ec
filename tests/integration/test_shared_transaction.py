"""SharedTransaction on a host's AsyncSession as well as its AsyncConnection,
and a refusal inside the host's transaction: the referral's unit rolls back
to its SAVEPOINT while the host's own writes go on (docs/host-database.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from referrals import Settings, open_service
from referrals.adapters.sql import Database, Namespace, SharedTransaction
from referrals.domain.codes import InviteCode
from referrals.domain.errors import ReferralCycle
from referrals.domain.phone import Phone
from referrals.testing.service import InMemoryService
from tests.shared_host import host_engine

ROOT, CHILD = Phone("+79990000001"), Phone("+79990000002")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Database:
    fixture = "sqlite_database" if request.param == "sqlite" else "postgres_database"
    found: Database = request.getfixturevalue(fixture)
    return found


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    async with host_engine(database.url) as engine:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS host_audit (line VARCHAR(40))"
            )
            await connection.exec_driver_sql("DELETE FROM host_audit")
        yield engine


async def _users(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT phone FROM referrals_users ORDER BY id"))
        return [row[0] for row in rows]


async def _audit(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(text("SELECT line FROM host_audit"))).scalars())


async def test_an_async_session_commits_and_rolls_back_our_rows_with_its_own(
    engine: AsyncEngine, database: Database
) -> None:
    for commit in (False, True):
        async with AsyncSession(engine) as session:
            shared = SharedTransaction(session, database.namespace)
            async with shared() as unit:
                await unit.users.add(ROOT, InviteCode("AAAAAA"), "t" * 32)
                await unit.commit()
            await session.execute(text("INSERT INTO host_audit VALUES ('root signed up')"))
            if commit:
                await session.commit()
            else:
                await session.rollback()
        assert (await _users(engine), await _audit(engine)) == (
            ([str(ROOT)], ["root signed up"]) if commit else ([], [])
        )


async def test_a_refusal_rolls_back_its_unit_and_the_hosts_transaction_goes_on(
    engine: AsyncEngine, database: Database
) -> None:
    async with engine.begin() as connection:  # root <- child already
        shared = SharedTransaction(connection, database.namespace)
        async with shared() as unit:
            root = await unit.users.add(ROOT, InviteCode("AAAAAA"), "t" * 32)
            child = await unit.users.add(CHILD, InviteCode("BBBBBB"), "t" * 32)
            assert root is not None
            assert child is not None
            await unit.users.set_referrer(child, root)
            await unit.commit()

    service = InMemoryService().service.sharing  # the use cases, bound to the host's transaction
    async with engine.begin() as connection:
        apply = service(SharedTransaction(connection, database.namespace)).apply_referral
        with pytest.raises(ReferralCycle):
            await apply(root.id, "BBBBBB")  # root would refer itself through child
        await connection.execute(text("INSERT INTO host_audit VALUES ('cycle refused')"))

    assert await _audit(engine) == ["cycle refused"]


async def _events(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT type FROM referrals_outbox ORDER BY seq"))
        return [row[0] for row in rows]


async def test_the_outbox_rows_of_a_referral_commit_and_roll_back_with_the_host(
    engine: AsyncEngine, database: Database
) -> None:
    async with engine.begin() as connection:
        shared = SharedTransaction(connection, database.namespace)
        async with shared() as unit:
            root = await unit.users.add(ROOT, InviteCode("AAAAAA"), "t" * 32)
            child = await unit.users.add(CHILD, InviteCode("BBBBBB"), "t" * 32)
            await unit.commit()
    assert root is not None
    assert child is not None
    service = InMemoryService().service

    async def apply_then_fail() -> None:
        async with engine.begin() as connection:
            sharing = service.sharing(SharedTransaction(connection, database.namespace))
            await sharing.apply_referral(child.id, "AAAAAA")
            raise LookupError("the host's own step failed")

    with pytest.raises(LookupError):
        await apply_then_fail()
    assert await _events(engine) == []

    async with engine.begin() as connection:
        sharing = service.sharing(SharedTransaction(connection, database.namespace))
        await sharing.apply_referral(child.id, "AAAAAA")
    assert await _events(engine) == ["referral.applied"]


async def test_a_shared_transaction_given_no_namespace_takes_the_services(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/acme.sqlite3"
    acme = Namespace("acme_", None)
    settings = Settings(database_url=url, db_table_prefix="acme_")
    async with (
        open_service(settings) as service,  # migrates acme_ tables
        host_engine(url) as engine,
        engine.begin() as connection,
    ):
        async with SharedTransaction(connection, acme)() as unit:
            root = await unit.users.add(ROOT, InviteCode("AAAAAA"), "t" * 32)
            child = await unit.users.add(CHILD, InviteCode("BBBBBB"), "t" * 32)
            await unit.commit()
        assert root is not None
        assert child is not None
        shared = service.sharing(SharedTransaction(connection))  # no namespace given
        profile = await shared.apply_referral(child.id, "AAAAAA")
        assert profile.used_invite_code == "AAAAAA"

        with pytest.raises(ValueError, match="but the service's tables are in"):
            service.sharing(SharedTransaction(connection, Namespace("other_", None)))
