"""Starting the login history's purge opens no database: a worker starting
beside a server on a new SQLite file must not migrate it at the same time
(both would create the tables; seen as "table referrals_users already exists")."""

from __future__ import annotations

from pathlib import Path

from referrals.container import Container
from referrals.service import start_history_purge
from referrals.settings import Settings


async def test_starting_the_purge_leaves_the_database_alone(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    settings = Settings(database_url=f"sqlite:///{database}")
    container = Container(settings=settings)

    loop = await start_history_purge(container, settings)
    await loop.stop()

    assert not database.exists()
