"""The login history's purge loop (docs/account.md): started by the worker or
the serving process, it purges every ``PURGE_EVERY``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from referrals.adapters.memory import InMemoryUsers
from referrals.application.history import HistoryLoop, PurgeHistory
from referrals.domain.logins import LoginRecord
from referrals.service import open_service
from referrals.settings import Settings
from referrals.testing.clock import FakeClock

DAY = 86_400.0


async def test_the_loop_purges_old_logins_when_started_and_stops() -> None:
    users = InMemoryUsers()
    clock = FakeClock(100 * DAY)
    async with users.unit_of_work() as unit:
        unit.outbox.record_login(LoginRecord(1, 1 * DAY))
        unit.outbox.record_login(LoginRecord(1, 50 * DAY))
        await unit.commit()
    purge = PurgeHistory(users.unit_of_work, clock, keep=90 * DAY, batch=1)
    purged = asyncio.Event()

    async def purge_once() -> int:
        count = await purge()
        purged.set()
        return count

    loop = HistoryLoop(purge_once, every=0.0)
    loop.start()
    await purged.wait()
    await loop.stop()

    assert users.logins == [LoginRecord(1, 50 * DAY)]


async def test_the_embedded_service_runs_the_purge_without_webhooks(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'referrals.sqlite3'}")
    assert settings.broker_url is None and not settings.webhooks
    async with open_service(settings):
        tasks = {task.get_name() for task in asyncio.all_tasks()}
    assert "login history purge" in tasks
    assert "login history purge" not in {task.get_name() for task in asyncio.all_tasks()}
