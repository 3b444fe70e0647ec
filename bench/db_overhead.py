"""Where a profile read's time goes: the use case against its two SELECTs alone.

    .venv/bin/python bench/db_overhead.py [--calls 2000]

In-process, no HTTP, one call at a time on uvloop (as ``referrals serve``
runs). For a temporary SQLite file and, when the local server is reachable,
a temporary PostgreSQL database ``referrals_bench_<random>``, it migrates,
inserts one user with 100 referrals straight into ``users``, then times:

* ``GetProfile`` as served: ``open_database``'s adapter, a read-only unit
  of work (psycopg's pool in autocommit, or sqlite3 on the loop), one
  precompiled statement for the user's row joined to one page;
* that same statement on the bare driver, on one connection (``sqlite3`` in
  the loop's own thread; ``psycopg`` async in autocommit, prepared);
* the classic two SELECTs (the row, then the page) on the bare driver.

Wall and CPU microseconds per call, median of 3 rounds.
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
from sqlalchemy import create_engine, insert

import benchlib
from referrals.adapters.sql import Database, Namespace, open_database, sql_unit_of_work
from referrals.adapters.sql.migrate import sqlalchemy_url
from referrals.adapters.sql.statements import statements_for
from referrals.adapters.sql.tables import tables_for
from referrals.application.policy import Policy
from referrals.application.profile import GetProfile
from referrals.settings import Settings

USER_SQL = (
    "SELECT id, phone, invite_code, referrer_id, used_invite_code, referred_count"
    " FROM referrals_users WHERE id = {p}"
)
PAGE_SQL = (
    "SELECT referral_rank, phone FROM referrals_users WHERE referrer_id = {p} AND referral_rank > 0"
    " ORDER BY referral_rank LIMIT 101"
)
REFERRALS = 100
NAMESPACE = Namespace("referrals_", None)
DEFAULTS = Settings()
users = tables_for(NAMESPACE).users

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
    engine = create_engine(sqlalchemy_url(database.url))
    with engine.begin() as conn:  # two statements: different columns
        conn.execute(insert(users), [referrer | {"referred_count": REFERRALS}])
        conn.execute(insert(users), rows)
    engine.dispose()


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


async def variants(url: str, dialect: str) -> list[tuple[str, Call]]:
    database = open_database(
        url,
        namespace=NAMESPACE,
        pool_size=DEFAULTS.db_pool_size,
        timeout=DEFAULTS.dependency_timeout,
        prepared_statements=True,
    )
    await seed(database)
    await database.open()
    served = GetProfile(policy=Policy(), unit_of_work=sql_unit_of_work(database))
    profile = await served(1)
    assert len(profile.referred_phones) == REFERRALS, profile
    statement = statements_for(database.dialect, NAMESPACE).profile
    args = statement.args({"user_id": 1, "after": 0, "limit": REFERRALS + 1})
    result: list[tuple[str, Call]] = [
        ("GetProfile as served (1 SELECT, pooled, autocommit)", lambda: served(1))
    ]
    if dialect == "sqlite":
        raw = sqlite3.connect(url.split("///", 1)[1], check_same_thread=False)

        async def one() -> None:
            assert len(raw.execute(statement.sql, args).fetchall()) == REFERRALS

        async def two() -> None:
            raw.execute(USER_SQL.format(p="?"), (1,)).fetchone()
            assert len(raw.execute(PAGE_SQL.format(p="?"), (1,)).fetchall()) == REFERRALS

        result += [
            ("the same SELECT, plain sqlite3 in the loop thread", one),
            ("2 SELECTs (row, page), plain sqlite3", two),
        ]
    else:
        import psycopg

        plain_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        conn = await psycopg.AsyncConnection.connect(
            plain_url, autocommit=True, prepare_threshold=0
        )

        async def one() -> None:
            rows = await (await conn.execute(statement.sql, args)).fetchall()
            assert len(rows) == REFERRALS

        async def two() -> None:
            await (await conn.execute(USER_SQL.format(p="%s"), (1,))).fetchone()
            page = await (await conn.execute(PAGE_SQL.format(p="%s"), (1,))).fetchall()
            assert len(page) == REFERRALS

        result += [
            ("the same SELECT, psycopg async alone, prepared", one),
            ("2 SELECTs (row, page), psycopg async alone", two),
        ]
    return result


async def run(args: argparse.Namespace) -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        targets = [("sqlite", f"sqlite:///{Path(tmp) / 'overhead.sqlite3'}")]
        postgres = None
        if benchlib.postgres_available(args.postgres_url):
            postgres = benchlib.temporary_database(args.postgres_url, "_overhead")
            pg_url = postgres.__enter__().replace("postgresql://", "postgresql+psycopg://", 1)
            targets.append(("postgres", pg_url))
        try:
            for dialect, url in targets:
                calls = await variants(url, dialect)
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
