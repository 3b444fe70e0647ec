"""The outbox on SQLite and PostgreSQL: events written with their unit's commit only,
at no round trip of their own on PostgreSQL."""

from __future__ import annotations

import json

import pytest

from referrals.adapters.sql.database import Database
from referrals.application.events import ReferralApplied, UserCreated
from referrals.application.outbox import OutboxEvent, exported
from referrals.domain.codes import InviteCode
from referrals.domain.phone import Phone
from tests.integration.test_postgres_round_trips import TurnCounter, _turns, counted

__all__ = ["counted"]  # the fixture, shared with the round-trip tests


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Database:
    fixture = {"sqlite": "sqlite_database", "postgresql": "postgres_database"}[request.param]
    db: Database = request.getfixturevalue(fixture)
    return db


def created(user_id: int, at: float = 1_765_000_000.0) -> OutboxEvent:
    event = exported(
        UserCreated(
            at=at, user_id=user_id, phone=Phone("+79990000001"), invite_code=InviteCode("AAAAAA")
        )
    )
    assert event is not None
    return event


async def stored(database: Database) -> list[tuple[str, str, float, int | None, dict[str, object]]]:
    from referrals.adapters.sql.sqlite import SqliteUnitOfWork

    sql = "SELECT id, type, occurred_at, user_id, data FROM referrals_outbox ORDER BY seq"
    async with database.unit_of_work(read_only=True) as unit:
        if isinstance(unit, SqliteUnitOfWork):
            rows = unit.connection.execute(sql).fetchall()
        else:
            cursor = await unit._active().execute(sql)  # type: ignore[attr-defined]
            rows = await cursor.fetchall()
    return [(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]


async def test_events_are_written_when_their_unit_commits(database: Database) -> None:
    first, second = created(1), created(2, at=1_765_000_001.5)
    async with database.unit_of_work() as unit:
        unit.outbox.add(first)
        unit.outbox.add(second)
        await unit.commit()
    assert await stored(database) == [
        (e.id, e.type, e.at, e.user_id, e.data) for e in (first, second)
    ]


async def test_events_of_a_unit_left_without_commit_are_not_written(database: Database) -> None:
    async with database.unit_of_work() as unit:
        await unit.users.add(Phone("+79990000002"), InviteCode("BBBBBB"), "t")
        unit.outbox.add(created(1))
    assert await stored(database) == []


async def test_an_event_id_is_written_once(database: Database) -> None:
    event = created(1)
    async with database.unit_of_work() as unit:
        unit.outbox.add(event)
        await unit.commit()

    async def again() -> None:
        async with database.unit_of_work() as unit:
            unit.outbox.add(event)
            await unit.commit()

    with pytest.raises(Exception):  # noqa: B017, PT011 (the driver's integrity error)
        await again()
    assert len(await stored(database)) == 1


@pytest.mark.postgres
async def test_an_event_rides_with_the_commit_at_no_round_trip_of_its_own(
    counted: tuple[TurnCounter, Database],
) -> None:
    counter, database = counted

    async def apply_like(n: int, with_event: bool) -> None:
        async with database.unit_of_work() as uow:
            user = await uow.users.add(Phone(f"+7999000010{n}"), InviteCode(f"CCCCC{n}"), "t")
            assert user is not None
            if with_event:
                event = ReferralApplied(
                    at=1.0, user_id=user.id, referrer_id=1, invite_code=InviteCode("A")
                )
                row = exported(event)
                assert row is not None
                uow.outbox.add(row)
            await uow.commit()

    await apply_like(1, True)  # the connection prepares its statements at their first use
    assert await _turns(counter, apply_like(2, False)) == 2  # BEGIN + INSERT, COMMIT
    assert await _turns(counter, apply_like(3, True)) == 2  # BEGIN + INSERT, event + COMMIT

    async def event_alone() -> None:
        async with database.unit_of_work() as uow:
            uow.outbox.add(created(9))
            await uow.commit()

    await event_alone()
    assert await _turns(counter, event_alone()) == 1  # BEGIN + event + COMMIT
