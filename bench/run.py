"""Ours against the usual Django+DRF version of the same API, under wrk.

    .venv/bin/python bench/run.py                       # SQLite, then PostgreSQL
    REFERRALS_REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/run.py

For each database it starts, on free 127.0.0.1 ports:

* ``ours-1``: ``referrals serve`` (1 Granian worker, in-process stores);
* ``ours-2``: ``referrals serve --workers 2`` on Redis stores (only when
  ``REFERRALS_REDIS_URL`` is set);
* ``django``: bench/django_reference under gunicorn, 2 sync workers;

seeds through the API a signed-in user who applied someone's code and whose
code ``--referrals`` others applied, then runs every scenario ``--repeats``
times, each time every server in turn (the order rotates), with a warm-up
before each measured run. It prints a markdown table of medians and the
ratios ours/Django measured in this run, and stops everything it started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import benchlib
from benchlib import Measure, Server, median, note

SCENARIOS = {
    "profile": "GET /api/profile/ (signed in)",
    "login": "POST /api/login/ (new phone each time)",
    "pair": "login + verify (new user each time)",
}


@dataclass
class Row:
    database: str
    scenario: str
    server: str
    description: str
    processes: int
    runs: list[Measure]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=benchlib.PG_ADMIN_URL, help="admin URL")
    parser.add_argument("--scenarios", default="profile,login,pair")
    parser.add_argument("--seconds", type=int, default=10, help="per measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--referrals", type=int, default=100, help="of the signed-in user")
    parser.add_argument(
        "--django-threads",
        type=int,
        default=0,
        help="run gunicorn's gthread workers with this many threads (default: sync workers)",
    )
    parser.add_argument("--json", type=Path, help="also write every run here")
    args = parser.parse_args()
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


def start_servers(
    database: str, args: argparse.Namespace, workdir: Path, stack: contextlib.ExitStack
) -> list[Server]:
    redis_url = os.environ.get("REFERRALS_REDIS_URL")

    def database_url(name: str, *, ours: bool = True) -> str:
        """Ours takes SQLAlchemy URLs, Django plain ones."""
        if database == "sqlite":
            path = workdir / f"{name}.sqlite3"
            return f"sqlite+aiosqlite:///{path}" if ours else f"sqlite:///{path}"
        url = stack.enter_context(benchlib.temporary_database(args.postgres_url, f"_{name}"))
        return url.replace("postgresql://", "postgresql+psycopg://", 1) if ours else url

    servers: list[Server] = []

    def started(server: Server) -> Server:
        stack.callback(server.stop)
        servers.append(server)
        note(f"{database}: {server.name} on :{server.port} ({server.description})")
        return server

    started(benchlib.start_ours("ours-1", workdir, database_url("ours1")))
    if redis_url:
        ours2_url = database_url("ours2")
        stack.callback(benchlib.delete_redis_prefix, redis_url, "benchours-2:")
        started(benchlib.start_ours("ours-2", workdir, ours2_url, workers=2, redis_url=redis_url))
    started(
        benchlib.start_django(
            "django", workdir, database_url("django", ours=False), threads=args.django_threads
        )
    )
    return servers


def measure_all(
    database: str, servers: list[Server], tokens: dict[str, str], args: argparse.Namespace
) -> list[Row]:
    rows = {
        (scenario, server.name): Row(
            database, scenario, server.name, server.description, server.processes, []
        )
        for scenario in args.scenarios
        for server in servers
    }
    tags = {server.name: 10 for server in servers}

    def next_tag(server: Server) -> str:
        tags[server.name] += 1
        assert tags[server.name] < 100, "more load runs than phone ranges"
        return str(tags[server.name])

    runners: dict[str, Callable[[Server, float], Measure]] = {
        "profile": lambda s, seconds: benchlib.run_wrk(
            s.port, "/api/profile/", "profile", [tokens[s.name]], seconds=seconds,
            connections=args.connections, threads=args.threads,
        ),
        "login": lambda s, seconds: benchlib.run_wrk(
            s.port, "/api/login/", "login", [next_tag(s)], seconds=seconds,
            connections=args.connections, threads=args.threads,
        ),
        "pair": lambda s, seconds: benchlib.run_wrk(
            s.port, "/api/login/", "pair", [next_tag(s)], seconds=seconds,
            connections=args.connections, threads=args.threads,
        ),
    }  # fmt: skip
    for scenario in args.scenarios:
        for repeat in range(args.repeats):
            shift = repeat % len(servers)
            for server in servers[shift:] + servers[:shift]:
                if args.warmup > 0:
                    runners[scenario](server, args.warmup)
                cpu_before = benchlib.group_cpu_seconds(server.process.pid)
                measure = runners[scenario](server, args.seconds)
                measure.cpu_seconds = benchlib.group_cpu_seconds(server.process.pid) - cpu_before
                rows[scenario, server.name].runs.append(measure)
                rate = measure.pairs if scenario == "pair" else measure.rps
                note(
                    f"{database} {scenario} #{repeat + 1} {server.name}: {rate:,.0f}/s"
                    f" p50 {measure.p50_ms:.1f} ms p99 {measure.p99_ms:.1f} ms"
                    f" CPU {measure.cpu_ms_per_request:.2f} ms/req errors {measure.errors}"
                )
                time.sleep(0.5)
    return list(rows.values())


def rate(row: Row, run: Measure) -> float:
    return run.pairs if row.scenario == "pair" else run.rps


def paired(row: Row, django: Row, value: Callable[[Row, Measure], float], invert: bool) -> str:
    """Median and range of per-run ratios, each of two servers measured back to back."""
    if row is django:
        return "1"
    ratios = [
        (value(django, b) / value(row, a)) if invert else (value(row, a) / value(django, b))
        for a, b in zip(row.runs, django.runs, strict=True)
    ]
    return f"**{median(ratios):.2f}x** ({min(ratios):.2f} to {max(ratios):.2f})"


def cpu(_row: Row, run: Measure) -> float:
    return run.cpu_ms_per_request


def table(rows: list[Row]) -> str:
    lines = [
        "| database | scenario | server | processes | req/s | p50 ms | p99 ms | errors"
        " | server CPU ms/req | req/s ours/Django | CPU per request Django/ours |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        key = (row.database, row.scenario, "django")
        django = next(r for r in rows if (r.database, r.scenario, r.server) == key)
        scenario = SCENARIOS[row.scenario] + (" — pairs/s" if row.scenario == "pair" else "")
        lines.append(
            f"| {row.database} | {scenario} | {row.description} | {row.processes}"
            f" | {median([rate(row, r) for r in row.runs]):,.0f}"
            f" | {median([r.p50_ms for r in row.runs]):.1f}"
            f" | {median([r.p99_ms for r in row.runs]):.1f}"
            f" | {sum(r.errors for r in row.runs)}"
            f" | {median([r.cpu_ms_per_request for r in row.runs]):.2f}"
            f" | {paired(row, django, rate, invert=False)}"
            f" | {paired(row, django, cpu, invert=True)} |"
        )
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    benchlib.exit_on_sigterm()
    benchlib.find_wrk()
    benchlib.ensure_django_venv()
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in databases and not benchlib.postgres_available(args.postgres_url):
        if args.db == "postgres":
            raise SystemExit(f"PostgreSQL is not reachable at {args.postgres_url}")
        note("PostgreSQL is not reachable: SQLite only")
        databases.remove("postgres")
    started = datetime.now(UTC)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="referrals-bench-") as tmp:
        for database in databases:
            workdir = Path(tmp) / database
            workdir.mkdir()
            with contextlib.ExitStack() as stack:
                servers = start_servers(database, args, workdir, stack)
                tokens = {}
                for server in servers:
                    tokens[server.name] = benchlib.seed_referrals(server.port, args.referrals)
                    note(f"{database}: seeded {server.name} with {args.referrals} referrals")
                rows += measure_all(database, servers, tokens, args)
    header = (
        f"{started:%Y-%m-%d %H:%M} UTC, {benchlib.machine()}; wrk -t{args.threads}"
        f" -c{args.connections}, {args.seconds:g} s after {args.warmup:g} s warm-up,"
        f" median of {args.repeats}; signed-in user with {args.referrals} referrals"
    )
    print(header + "\n")
    print(table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"header": header, "rows": [
                    {"database": r.database, "scenario": r.scenario, "server": r.server,
                     "description": r.description, "processes": r.processes,
                     "runs": [m.raw | {"cpu_seconds": m.cpu_seconds} for m in r.runs]}
                    for r in rows
                ]},
                indent=2,
            )
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
