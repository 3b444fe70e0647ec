"""The pumping drill (docs/rules.md, *Conversion-driven throttling* and
*Referral integrity*): organic logins and an SMS-pumping attack in the same
hour, and referral farming, against real servers the drill starts, and what
the defences let through, in enforce and shadow.

    python3 dev.py pumping-drill                 # 2,000 people, 20,000 pumped requests
    python3 dev.py pumping-drill --short         # a tenth of it, a shorter hour
    .venv/bin/python -m bench.pumping_drill --stacks embedded --modes enforce,off

Stacks: ``embedded`` (``referrals serve`` with no store settings) and
``postgres+redis`` (a database and a Redis prefix of its own on the local
servers, ``referrals serve --workers 2`` and ``referrals worker``). The SMS
go through the webhook channel to a fake gateway in this process; people
read their codes from it (no ``REFERRALS_EXPOSE_CODES``), so a late code is
seen as late. Before the hour, 50 accounts from one network and one device
apply one code; after it, organic people apply each other's
(:mod:`bench.pumping.farming`). The hour is compressed: every window of an hour or
less is divided by the scale (``--hour`` seconds of wall clock for 3,600),
and the times printed are seconds of the simulated hour. The traffic is in
:mod:`bench.pumping.traffic`, the settings in :mod:`bench.pumping.stacks`.
Exit 1 if an enforce run misses a goal or any request answered 5xx (other
than 503 ``sending_paused``, which the spend cap answers) or failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from pathlib import Path

from bench.benchlib import PG_ADMIN_URL, exit_on_sigterm
from bench.pumping.drill import HOUR, hour_of_traffic, run
from bench.pumping.figures import Figures, table
from bench.pumping.stacks import MIN_VOLUME, STACKS, Servers, new_database

REDIS_URL = "redis://127.0.0.1:6379/0"
PUMPED_GOAL, ORGANIC_GOAL, FARMED_GOAL, FRIENDS_GOAL = 0.05, 0.01, 0.95, 0.02


def meets_goals(figures: Figures) -> bool:
    return (
        figures.pumped_ratio <= PUMPED_GOAL
        and figures.organic_refused_share <= ORGANIC_GOAL
        and figures.farmed_held >= FARMED_GOAL
        and figures.organic_held <= FRIENDS_GOAL
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pumping_drill", description=__doc__)
    parser.add_argument("--short", action="store_true", help="a tenth of the traffic (CI)")
    parser.add_argument("--hour", type=float, help="wall seconds of the simulated hour")
    parser.add_argument("--stacks", default=",".join(STACKS))
    parser.add_argument("--modes", default="enforce,shadow")
    parser.add_argument("--admin-url", default=os.environ.get("PG_ADMIN_URL", PG_ADMIN_URL))
    parser.add_argument("--redis-url", default=REDIS_URL)
    args = parser.parse_args()
    exit_on_sigterm()  # stop the servers on the way out
    people, attack, volume = (200, 2_000, MIN_VOLUME // 10) if args.short else (2_000, 20_000, 100)
    hour = args.hour or (30.0 if args.short else 120.0)
    scale = HOUR / hour
    logins = hour_of_traffic(people, attack)
    logs = Path(tempfile.mkdtemp(prefix="pumping-drill-"))
    print(
        f"{people:,} people and {attack:,} pumped requests in one hour, run in {hour:g} s"
        f" (scale {scale:g}: windows of an hour or less divided by it), min volume {volume}",
        flush=True,
    )
    results = []
    for stack_name in args.stacks.split(","):
        for mode in args.modes.split(","):
            with contextlib.ExitStack() as stop:
                servers = None
                if stack_name != "embedded":
                    database = stop.enter_context(new_database(args.admin_url))
                    servers = Servers(database, args.redis_url)
                where = logs / f"{stack_name}-{mode}"
                figures = asyncio.run(
                    run(mode, logins, scale=scale, min_volume=volume, logs=where, servers=servers)
                )
            print(figures.notes(), flush=True)
            results.append(figures)
    print("\n" + table(results))
    print(f"\nlogs: {logs}")
    failed = [f.name for f in results if f.mode == "enforce" and not meets_goals(f)]
    failed += [f"{f.name} (5xx)" for f in results if f.server_errors]
    print("MISSED: " + ", ".join(failed) if failed else "enforce meets the goals, no 5xx")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
