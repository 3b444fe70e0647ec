"""How close ours comes to the framework's own ceiling, per core: `python3 dev.py bench`.

Starts the ceiling (a bare Litestar JSON endpoint on `referrals serve --app`),
ours on PostgreSQL + Redis (+ an SMS worker) and ours embedded, each API
process pinned to one core and wrk to the other; runs every scenario
(warm-up, then measured) in repeats interleaved with the ceiling; prints
medians, ratios to the ceiling and the targets of issue 8; stops and drops
everything it started. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import benchlib
import profiling
import report
import seeding
import stack as stacks
from benchlib import DEFENCE, note
from pools import Load, Pools
from scenarios import CEILING, DEEP_RANK, MILLION, OURS, Server, Window, pause, window, workdir_for

SERVERS = ("ceiling", "pg", "embedded")
PG_SERVERS = ("pg", *DEFENCE)
REDIS_URL = "redis://127.0.0.1:6379/0"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 dev.py bench",
        description="Ours against a bare Litestar endpoint on the same server, one core each.",
    )
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help=f"comma-separated (default: %(default)s; also {', '.join(DEFENCE)})",
    )
    parser.add_argument(
        "--scenarios", default=",".join(OURS), help="comma-separated (default: %(default)s)"
    )
    parser.add_argument(
        "--seconds", type=int, default=10, help="seconds of each measured run (%(default)s)"
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of warm-up before each (%(default)s)"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per scenario, medians shown (%(default)s)"
    )
    parser.add_argument(
        "--connections", type=int, default=32, help="wrk's open connections (%(default)s)"
    )
    parser.add_argument(
        "--profile",
        metavar="[SERVER:]SCENARIO",
        help="after the repeats, one more run of SCENARIO under py-spy (on pg unless SERVER"
        " says otherwise); files in bench/results/",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also save every run here")
    parser.add_argument(
        "--keep", action="store_true", help="keep the servers up after the run, until Ctrl-C"
    )
    parser.add_argument(
        "--postgres-url",
        default=benchlib.PG_ADMIN_URL,
        help="server to create (and drop) a database on, as its admin (default: %(default)s)",
    )
    parser.add_argument(
        "--redis-url",
        default=REDIS_URL,
        help="Redis for pg, keys under a random prefix deleted at the end (default: %(default)s)",
    )
    args = parser.parse_args()
    args.servers = [s for s in args.servers.split(",") if s]
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    if unknown := set(args.servers) - {*SERVERS, *DEFENCE}:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    if unknown := set(args.scenarios) - set(OURS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if min(args.seconds, args.repeats, args.connections) < 1 or args.warmup < 0:
        parser.error("--seconds, --repeats and --connections must be 1 or more")
    if args.profile:
        server, _, scenario = args.profile.rpartition(":")
        server = server or next((s for s in ("pg", "embedded") if s in args.servers), "ceiling")
        runs = [CEILING] if server == "ceiling" else OURS
        if server == "embedded":
            runs = [s for s in OURS if not s.startswith("profile-1m")]
        if server not in args.servers or scenario not in runs:
            parser.error(f"--profile {args.profile}: that server does not run that scenario")
        args.profile = (server, scenario)
    return args


def check_services(args: argparse.Namespace) -> None:
    if not set(PG_SERVERS) & set(args.servers):
        return
    if not benchlib.postgres_available(args.postgres_url):
        raise SystemExit(f"PostgreSQL is not reachable at {args.postgres_url} (--servers?)")
    import redis

    client = redis.Redis.from_url(args.redis_url, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise SystemExit(f"Redis is not reachable at {args.redis_url}: {exc}") from exc
    finally:
        client.close()


def start(
    args: argparse.Namespace, cores: stacks.Cores, root: Path, stack: contextlib.ExitStack
) -> dict[str, Server]:
    load = Load(args.connections, 1, cores.pin(cores.load, []))
    servers: dict[str, Server] = {}

    def add(api: stacks.Api, seeded: seeding.Seeded | None = None) -> None:
        workdir = workdir_for(root, f"{api.name}-pools")
        codes = seeded.codes if seeded else []
        servers[api.name] = Server(api, Pools(api.name, api.port, workdir, load, codes), seeded)
        note(f"{api.name} on :{api.port} (process group {api.pgid}): {api.description}")

    if "ceiling" in args.servers:
        add(stacks.start_ceiling(stack, cores, workdir_for(root, "ceiling")))
    for name in [s for s in PG_SERVERS if s in args.servers]:
        workdir = workdir_for(root, name)
        extra = DEFENCE.get(name, {})
        pg = stacks.prepare_postgres(stack, args.postgres_url, args.redis_url, workdir, extra)
        wanted = [*args.scenarios, *(args.profile or [])]
        million = MILLION if any(s.startswith("profile-1m") for s in wanted) else 0
        million = million if name == "pg" else 0  # the defence variants skip the million
        if million:
            url = benchlib.with_database(args.postgres_url, pg.database)
            note(f"pg: seeding {million:,} referrals by SQL")
            note(f"pg: seeded in {seeding.seed_million(url, million):.1f} s")
        settings = "; " + " ".join(f"{k}={v}" for k, v in extra.items()) if extra else ""
        api = stacks.start_postgres(stack, cores, workdir, pg, name, settings)
        started = time.monotonic()
        add(api, seeding.seed_api(api.port, million=million, deep_rank=DEEP_RANK))
        note(f"{name}: signed in the seeded users in {time.monotonic() - started:.1f} s")
    if "embedded" in args.servers:
        api = stacks.start_embedded(stack, cores, workdir_for(root, "embedded"))
        add(api, seeding.seed_api(api.port))
        if any(s.startswith("profile-1m") for s in args.scenarios):
            note("embedded: the 1M-referral scenarios are skipped (seeded into PostgreSQL only)")
    return servers


def measure(
    args: argparse.Namespace, servers: dict[str, Server], sessions: stacks.Sessions | None
) -> list[Window]:
    """Repeats; in each, every server of ours in turn, each after a ceiling run."""
    ceiling = servers.get("ceiling")
    ours = [s for name, s in servers.items() if name != "ceiling"]
    windows: list[Window] = []
    for repeat in range(args.repeats):
        shift = repeat % max(1, len(ours))
        blocks: list[Server | None] = [*ours[shift:], *ours[:shift]] or [None]
        for block in blocks:
            reference = None
            if ceiling:
                reference = window(ceiling, CEILING, args.warmup, args.seconds, repeat, None)
                windows.append(reference)
                pause()
            for scenario in args.scenarios if block else []:
                if block is None or not block.runs(scenario):
                    continue
                run = window(block, scenario, args.warmup, args.seconds, repeat, sessions)
                run.ceiling = reference.measure if reference else None
                windows.append(run)
                pause()
    return windows


def render(
    args: argparse.Namespace,
    header: str,
    servers: dict[str, Server],
    windows: list[Window],
    rss: dict[str, dict[int, float]],
) -> tuple[str, list[report.Target]]:
    rows = report.rows(windows)
    parts = [header]
    for name, server in servers.items():
        parts.append(
            report.table(name, server.api.description, [r for r in rows if r.server == name])
        )
        sizes = ", ".join(f"pid {pid} {mb:.1f} MB" for pid, mb in sorted(rss[name].items()))
        parts.append(f"Resident memory after the run ({name}): {sizes or 'process gone'}")
        if problems := stacks.log_problems(server.api):
            parts.append(problems)
    if "embedded" in servers and any(s.startswith("profile-1m") for s in args.scenarios):
        parts.append("The 1M-referral scenarios ran on pg only (the million is seeded by SQL).")
    targets = report.targets(rows, rss)
    parts.append(report.targets_table(targets))
    return "\n\n".join(parts), targets


def save(
    path: Path, header: str, args: argparse.Namespace, windows: list[Window], **extra: object
) -> None:
    runs = [
        {
            "repeat": w.repeat, "server": w.server, "scenario": w.scenario,
            "profiled": w.profiled, "pg_sessions_opened": w.pg_sessions,
            "ceiling_rps": w.ceiling.rps if w.ceiling else None,
            "rps": w.measure.rps, **w.measure.raw, "cpu_seconds": w.measure.cpu_seconds,
        }
        for w in windows
    ]  # fmt: skip
    document = {"header": header, "args": {k: v for k, v in vars(args).items() if k != "json"}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document | extra | {"runs": runs}, indent=2, default=str))
    note(f"saved {path}")


def keep(servers: dict[str, Server]) -> None:
    for server in servers.values():
        api = server.api
        database = f"  database {api.database}" if api.database else ""
        print(f"{api.name}: http://127.0.0.1:{api.port}/  log {api.server.log}{database}")
    print("Servers are up; Ctrl-C stops them and removes what the bench made (1 h at most).")
    with contextlib.suppress(KeyboardInterrupt):
        time.sleep(3600)


def main() -> int:
    args = parse_args()
    benchlib.exit_on_sigterm()
    # Started in the background, a shell hands us SIGINT ignored: Ctrl-C or kill -INT
    # must still stop the servers.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    benchlib.find_wrk()
    check_services(args)
    cores = stacks.Cores.detect()
    started = datetime.now(UTC)
    pinning = (
        "nothing pinned (1 core)"
        if cores.server is None
        else f"API processes on core {cores.server}, wrk and the SMS worker on core {cores.load}"
    )
    header = (
        f"{started:%Y-%m-%d %H:%M} UTC, {benchlib.machine()}; {pinning}; wrk -t1"
        f" -c{args.connections}, {args.warmup} s warm-up, {args.seconds} s measured,"
        f" median of {args.repeats}"
    )
    with (
        tempfile.TemporaryDirectory(prefix="referrals-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        servers = start(args, cores, Path(tmp), stack)
        sessions = None
        if "pg" in servers:
            sessions = stacks.Sessions(args.postgres_url)
            stack.callback(sessions.close)
        windows = measure(args, servers, sessions)
        rss = {name: stacks.group_rss_mb(s.api.pgid) for name, s in servers.items()}
        profiled = ""
        if args.profile:
            server, scenario = args.profile
            run, profiled = profiling.record(
                servers[server], scenario, args.warmup, args.seconds, cores, Path(tmp)
            )
            windows.append(run)
            rate = f"{run.measure.rps:,.0f} req/s while recorded"
            profiled = f"py-spy on {server}, {scenario} ({rate}):\n{profiled}"
        text, targets = render(args, header, servers, windows, rss)
        print(text + (f"\n\n{profiled}" if profiled else ""), flush=True)
        if args.json:
            save(args.json, header, args, windows, rss_mb=rss, targets=[asdict(t) for t in targets])
        if args.keep:
            keep(servers)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        note("interrupted: what the bench started is stopped, dropped and deleted")
        sys.exit(130)
