"""The scenarios, and one window of one: warm-up, then the measured wrk run.

A window of a PostgreSQL-backed server also reads how many connections the
database saw opened during the measured run (``pg_stat_database.sessions``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import benchlib
from benchlib import Measure, note
from pools import Pools
from seeding import Seeded, profile_path
from stack import Api, Sessions

CEILING = "hello"
"""The ceiling server's only scenario (the server is named "ceiling")."""
DEEP_RANK = 900_000
MILLION = 1_000_000
SCENARIOS = {
    CEILING: "GET / -> {'hello': 'world'} (the ceiling)",
    "profile": "GET /api/profile/?limit=20, 20 referrals",
    "profile-1m": f"GET /api/profile/?limit=20, {MILLION:,} referrals: first page",
    "profile-1m-deep": f"the same, page after rank {DEEP_RANK:,} (cursor)",
    "login": "POST /api/login/, a new phone each time",
    "verify": "POST /api/verify/{token}/, pre-created logins, each once",
    "apply": "POST /api/profile/ used_referral_code, pre-created users, each once",
}
OURS = [name for name in SCENARIOS if name != CEILING]
POOLED = {"verify", "apply"}


@dataclass
class Server:
    """A started API with what its scenarios need."""

    api: Api
    pools: Pools
    seeded: Seeded | None = None

    @property
    def name(self) -> str:
        return self.api.name

    def runs(self, scenario: str) -> bool:
        if self.name == "ceiling":
            return scenario == CEILING
        if scenario.startswith("profile-1m"):
            return self.seeded is not None and self.seeded.million is not None
        return scenario != CEILING


@dataclass
class Window:
    repeat: int
    server: str
    scenario: str
    measure: Measure
    pg_sessions: int | None = None
    """Connections opened to the server's database during the measured run."""
    ceiling: Measure | None = None
    """The ceiling's window of the same repeat, measured just before this server's."""
    profiled: bool = False


def run(server: Server, scenario: str, seconds: float) -> Measure:
    """One wrk run of ``scenario`` for ``seconds``, taking from and adding to the pools."""
    pools, seeded = server.pools, server.seeded
    if scenario == CEILING:
        return pools.wrk("hello", "/", [], seconds)
    if scenario.startswith("profile"):
        assert seeded is not None
        if scenario == "profile":
            return pools.wrk("profile", profile_path(20), [seeded.twenty], seconds)
        assert seeded.million is not None
        assert seeded.deep is not None
        cursor = seeded.deep if scenario == "profile-1m-deep" else ""
        return pools.wrk("profile", profile_path(20, cursor), [seeded.million], seconds)
    if scenario == "login":
        args, prefix = pools.login_args()
        measure = pools.wrk("random_login", "/api/login/", args, seconds)
        pools.add_logins(prefix)
        return measure
    # Each run gets every token there is: what it does not send comes back.
    if scenario == "verify":
        return pools.run_verify(pools.fresh_logins(), seconds)
    assert scenario == "apply", scenario
    return pools.run_apply(len(pools.sessions), seconds)


def warm_up(server: Server, scenario: str, warmup: float, seconds: float) -> None:
    """Pools filled for the warm-up and the measured run, then the warm-up run."""
    if scenario in POOLED:
        server.pools.ensure(scenario, [warmup, seconds] if warmup > 0 else [seconds])
    if warmup > 0:
        run(server, scenario, warmup)


def window(
    server: Server,
    scenario: str,
    warmup: float,
    seconds: float,
    repeat: int,
    sessions: Sessions | None,
) -> Window:
    """Warm-up, then the measured run, with the server's CPU and database connections."""
    warm_up(server, scenario, warmup, seconds)
    database = server.api.database if sessions else None
    before = sessions.count(database) if sessions and database else None
    cpu = benchlib.group_cpu_seconds(server.api.pgid)
    measure = run(server, scenario, seconds)
    measure.cpu_seconds = benchlib.group_cpu_seconds(server.api.pgid) - cpu
    opened = None
    if sessions and database and before is not None:
        after = sessions.count(database, settle=True)
        opened = None if after is None else after - before
    result = Window(repeat, server.name, scenario, measure, opened)
    note(describe(result))
    return result


def describe(window: Window) -> str:
    m = window.measure
    text = (
        f"#{window.repeat + 1} {window.server} {window.scenario}: {m.rps:,.0f} req/s,"
        f" p50 {m.p50_ms:.1f} ms, p99 {m.p99_ms:.1f} ms, non-2xx {m.raw['status_errors']},"
        f" CPU {m.cpu_ms_per_request:.2f} ms/req"
    )
    if m.raw.get("exhausted"):
        text += f", pool ran out ({m.raw['exhausted']:,} requests without a token)"
    if window.pg_sessions is not None:
        text += f", PostgreSQL connections opened {window.pg_sessions}"
    return text


def workdir_for(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def pause() -> None:
    """Between windows: let the last answers and log lines drain."""
    time.sleep(0.3)
