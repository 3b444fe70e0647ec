"""Where a profile read's time goes: the use case against its two SELECTs alone.

    .venv/bin/python bench/db_overhead.py [--calls 2000]

In-process, no HTTP, one call at a time on uvloop (as ``referrals serve``
runs). For a temporary SQLite file and, when the local server is reachable,
a temporary PostgreSQL database ``referrals_bench_<random>``, it migrates,
inserts one user with 100 referrals straight into ``users``, then times:

* ``GetProfile`` as served: ``Database``'s engine, a read-only unit of work
  (autocommit), one statement for the user's row joined to one page;
* the classic two SELECTs (the row, then the page) through SQLAlchemy Core
  in autocommit;
* the same two SELECTs on the bare driver (``sqlite3`` in the loop's own
  thread; ``psycopg`` async in autocommit).

It also counts how many times one ``GetProfile`` on SQLite hands work to
aiosqlite's thread. Wall and CPU microseconds per call, median of 3 rounds.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

import benchlib
from referrals.adapters.sql import Database, sql_unit_of_work
from referrals.adapters.sql.tables import users
from referrals.application.policy import Policy
from referrals.application.profile import GetProfile

USER_SQL = (
    "SELECT id, phone, invite_code, referrer_id, used_invite_code, referred_count"
    " FROM users WHERE id = {p}"
)
PAGE_SQL = (
    "SELECT referral_rank, phone FROM users WHERE referrer_id = {p} AND referral_rank > 0"
    " ORDER BY referral_rank LIMIT 101"
)
REFERRALS = 100

Call = Callable[[], Awaitable[Any]]


async def seed(database: Database) -> None:
    await database.migrate()
    now = datetime.now(UTC)
    referrer = {"id": 1, "phone": "+79000000001", "invite_code": "000001"}
    rows = [
        {
            "id": rank + 1,
            "phone": f"+791{rank:08d}",
            "invite_code": f"{rank + 1:06d}",
            "referrer_id": 1,
            "used_invite_code": "000001",
            "referral_rank": rank,
            "referred_count": 0,
            "referred_at": now,
        }
        for rank in range(1, REFERRALS + 1)
    ]
    async with database.engine.begin() as conn:  # two statements: different columns
        await conn.execute(insert(users), [referrer | {"referred_count": REFERRALS}])
        await conn.execute(insert(users), rows)


async def timed(calls: int, call: Call) -> tuple[float, float]:
    """Median over 3 rounds of (wall, CPU) microseconds per call."""
    for _ in range(min(200, calls)):
        await call()
    rounds = []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            await call()
        rounds.append(
            ((time.perf_counter() - wall) / calls * 1e6, (time.process_time() - cpu) / calls * 1e6)
        )
    return statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)


def count_aiosqlite_hops() -> Callable[[], int]:
    """Patch aiosqlite (in this process only) to count work sent to its thread."""
    import aiosqlite.core

    counter = [0]
    original = aiosqlite.core.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counter[0] += 1
        return await original(self, fn, *args, **kwargs)

    aiosqlite.core.Connection._execute = counting  # type: ignore[method-assign]
    return lambda: counter[0]


async def variants(url: str, dialect: str) -> list[tuple[str, Call]]:
    database = Database(url)
    await seed(database)
    served = GetProfile(policy=Policy(), unit_of_work=sql_unit_of_work(database))
    profile = await served(1)
    assert len(profile.referred_users) == REFERRALS, profile

    autocommit = create_async_engine(url, isolation_level="AUTOCOMMIT")
    user_sql, page_sql = text(USER_SQL.format(p=":id")), text(PAGE_SQL.format(p=":id"))

    async def core_autocommit() -> None:
        async with autocommit.connect() as conn:
            (await conn.execute(user_sql, {"id": 1})).one()
            assert len((await conn.execute(page_sql, {"id": 1})).all()) == REFERRALS

    result: list[tuple[str, Call]] = [
        ("GetProfile as served (1 SELECT, autocommit)", lambda: served(1)),
        ("2 SELECTs, SQLAlchemy Core, autocommit", core_autocommit),
    ]
    if dialect == "sqlite":
        raw = sqlite3.connect(url.split("///", 1)[1], check_same_thread=False)

        async def bare() -> None:
            raw.execute(USER_SQL.format(p="?"), (1,)).fetchone()
            assert len(raw.execute(PAGE_SQL.format(p="?"), (1,)).fetchall()) == REFERRALS

        result.append(("same 2 SELECTs, plain sqlite3 in the loop thread", bare))
    else:
        import psycopg

        plain_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        conn = await psycopg.AsyncConnection.connect(plain_url, autocommit=True)

        async def bare() -> None:
            await (await conn.execute(USER_SQL.format(p="%s"), (1,))).fetchone()
            page = await (await conn.execute(PAGE_SQL.format(p="%s"), (1,))).fetchall()
            assert len(page) == REFERRALS

        result.append(("same 2 SELECTs, psycopg async alone, autocommit", bare))
    return result


async def run(args: argparse.Namespace) -> None:
    hops = count_aiosqlite_hops()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        targets = [("sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'overhead.sqlite3'}")]
        postgres = None
        if benchlib.postgres_available(args.postgres_url):
            postgres = benchlib.temporary_database(args.postgres_url, "_overhead")
            pg_url = postgres.__enter__().replace("postgresql://", "postgresql+psycopg://", 1)
            targets.append(("postgres", pg_url))
        try:
            for dialect, url in targets:
                calls = await variants(url, dialect)
                if dialect == "sqlite":
                    before = hops()
                    await calls[0][1]()
                    benchlib.note(f"aiosqlite thread hand-offs per GetProfile: {hops() - before}")
                for label, call in calls:
                    wall, cpu = await timed(args.calls, call)
                    rows.append((dialect, label, wall, cpu))
                    benchlib.note(f"{dialect}: {label}: {wall:.0f} us wall, {cpu:.0f} us CPU")
        finally:
            if postgres is not None:
                postgres.__exit__(None, None, None)
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {benchlib.machine()}; {args.calls} calls x 3\n")
    print("| database | what | wall us/call | CPU us/call |\n|---|---|---:|---:|")
    for dialect, label, wall, cpu in rows:
        print(f"| {dialect} | {label} | {wall:,.0f} | {cpu:,.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--postgres-url", default=benchlib.PG_ADMIN_URL, help="admin URL")
    args = parser.parse_args()
    benchlib.exit_on_sigterm()
    uvloop.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
