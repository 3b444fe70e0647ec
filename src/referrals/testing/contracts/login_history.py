"""The login history contract (``UserRepository.logins``/``purge_logins`` and
``Outbox.record_login``), for every adapter of the unit of work."""

from __future__ import annotations

import pytest

from referrals.application.history import PurgeHistory
from referrals.application.ports import UnitOfWorkFactory
from referrals.domain.logins import LoginRecord
from referrals.testing.clock import FakeClock
from referrals.testing.contracts.unit_of_work import new_user

DAY = 86_400.0


async def record(uow: UnitOfWorkFactory, *logins: LoginRecord) -> None:
    async with uow() as unit:
        for login in logins:
            unit.outbox.record_login(login)
        await unit.commit()


async def history(uow: UnitOfWorkFactory, user_id: int, since: float = 0.0) -> list[LoginRecord]:
    async with uow(read_only=True) as unit:
        return await unit.users.logins(user_id, since, 1_000)


class LoginHistoryContract:
    """The login history: subclass it and give a ``unit_of_work`` fixture
    (a factory of units on an empty store)."""

    pytestmark = pytest.mark.asyncio

    async def test_recorded_logins_come_back_newest_first(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user = await new_user(unit_of_work)
        older = LoginRecord(user.id, 1_000.0, "203.0.113.0/24", "Firefox")
        newer = LoginRecord(user.id, 2_000.0, "2001:db8:1::/48", "")
        await record(unit_of_work, older)
        await record(unit_of_work, newer)

        assert await history(unit_of_work, user.id) == [newer, older]
        assert await history(unit_of_work, user.id, since=1_500.0) == [newer]

    async def test_a_login_is_written_only_if_its_unit_commits(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user = await new_user(unit_of_work)
        async with unit_of_work() as unit:
            unit.outbox.record_login(LoginRecord(user.id, 1_000.0))

        assert await history(unit_of_work, user.id) == []

    async def test_one_users_logins_are_not_anothers(self, unit_of_work: UnitOfWorkFactory) -> None:
        mine, theirs = await new_user(unit_of_work), await new_user(unit_of_work)
        await record(unit_of_work, LoginRecord(theirs.id, 1_000.0))

        assert await history(unit_of_work, mine.id) == []

    async def test_erasing_an_account_deletes_its_login_history(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        gone, kept = await new_user(unit_of_work), await new_user(unit_of_work)
        await record(unit_of_work, LoginRecord(gone.id, 1_000.0), LoginRecord(kept.id, 1_000.0))
        async with unit_of_work() as unit:
            assert await unit.users.erase(gone.id) is not None
            await unit.commit()

        assert await history(unit_of_work, gone.id) == []
        assert len(await history(unit_of_work, kept.id)) == 1

    async def test_a_purge_deletes_a_bounded_batch_of_the_oldest(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user = await new_user(unit_of_work)
        await record(unit_of_work, *(LoginRecord(user.id, float(at)) for at in range(1, 8)))
        async with unit_of_work() as unit:
            purged = await unit.users.purge_logins(6.0, 3)
            await unit.commit()

        assert purged == 3
        assert [x.at for x in await history(unit_of_work, user.id)] == [7.0, 6.0, 5.0, 4.0]

    async def test_the_history_purge_keeps_what_is_recent_and_deletes_all_that_is_old(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user = await new_user(unit_of_work)
        clock = FakeClock(100 * DAY)
        old = [LoginRecord(user.id, 5 * DAY + n) for n in range(7)]
        recent = LoginRecord(user.id, 20 * DAY)
        await record(unit_of_work, *old, recent)

        purged = await PurgeHistory(unit_of_work, clock, keep=90 * DAY, batch=3)()

        assert purged == len(old)  # in batches of 3, 3 and 1
        assert await history(unit_of_work, user.id) == [recent]
