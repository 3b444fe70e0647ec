"""What a host sees when the service migrates its SQLite database at start:
the migration runs in a thread (the event loop keeps serving), and the host's
logs get one line of ours, not Alembic's line per revision with its
docstring, unless the host asks for Alembic's (docs/host-database.md)."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import pytest

from referrals import Settings, open_service
from referrals.adapters.sql import migrate as migrations


async def _start(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/host.sqlite3")
    async with open_service(settings):  # users in SQLite, the rest in memory
        pass


async def test_migrating_at_start_runs_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran_in: list[tuple[threading.Thread, bool]] = []
    real = migrations.migrate

    def recorded(*args: object, **kwargs: object) -> None:
        try:
            asyncio.get_running_loop()
            in_loop = True
        except RuntimeError:
            in_loop = False
        ran_in.append((threading.current_thread(), in_loop))
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(migrations, "migrate", recorded)

    await _start(tmp_path)

    assert len(ran_in) == 1
    thread, in_loop = ran_in[0]
    assert thread is not threading.main_thread()
    assert not in_loop


async def test_the_hosts_logs_get_one_line_not_alembics(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):  # a host logging everything at INFO
        await _start(tmp_path)

    assert [r.name for r in caplog.records if r.name.startswith("alembic")] == []
    ours = [r.getMessage() for r in caplog.records if r.name == "referrals.migrations"]
    assert ours == [f"the tables referrals_* moved from nothing to {migrations.alembic_head()}"]
    assert "Running upgrade" not in caplog.text


async def test_a_host_that_asks_for_alembics_lines_gets_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alembic = logging.getLogger("alembic")
    alembic.setLevel(logging.INFO)
    try:
        with caplog.at_level(logging.INFO):
            await _start(tmp_path)
    finally:
        alembic.setLevel(logging.NOTSET)

    assert "Running upgrade" in caplog.text
