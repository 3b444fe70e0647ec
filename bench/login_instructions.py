"""What the abuse defences cost a login, in CPU instructions: a figure noise cannot move.

    .venv/bin/python bench/login_instructions.py [--logins 512] [--redis-url URL]

Wall-clock and CPU-time figures on a shared machine wander by 10 to 20 %
from one run to the next, more than the defences cost. Instructions do not:
this counts them with valgrind (``sudo apt-get install -y valgrind``).

For each of the bench's two servers, ``pg-open`` (the pumping throttle off,
nothing costed) and ``pg-defended`` (the throttle enforced and every SMS
costed under a cap: bench/bench.py's ``DEFENCE``), it runs a child process
under ``valgrind --tool=cachegrind --cache-sim=no`` that sends logins
through the whole ASGI app (Litestar's test client: every middleware, the
use case, the Redis send gate and the task queue), 32 at a time, each to a
new phone. The child runs twice, with 64 logins and with 64 + ``--logins``;
the difference, divided by ``--logins``, is one login's instructions with
start-up and warm-up taken out. Granian's HTTP parsing (the same for both)
is not in it, so the ratio is, if anything, larger than the server's.

The login touches no SQL database (docs/performance.md), so the children use
a temporary SQLite file; the stores and the queue are on Redis, under a
prefix of their own that is deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import shutil
import subprocess
import sys
import tempfile

import benchlib
from benchlib import DEFENCE

WARM = 64
"""Logins of the shorter run: start-up, imports and warm-up are in both runs."""
CONCURRENCY = 32
"""Logins under way at once, as wrk's connections in the bench."""
SERVERS = {"pg-open": DEFENCE["pg-open"], "pg-defended": DEFENCE["pg-defended"]}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logins", type=int, default=512, help="measured logins (%(default)s)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--child", nargs=3, metavar=("SERVER", "LOGINS", "FIRST"), help=argparse.SUPPRESS
    )
    return parser.parse_args()


def child_env(server: str, redis_url: str, prefix: str, workdir: str) -> dict[str, str]:
    return (
        benchlib.clean_environ()
        | benchlib.OURS_LOAD_SETTINGS
        | SERVERS[server]
        | {
            "REFERRALS_SECRET_KEY": "ab" * 32,
            "REFERRALS_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/{server}.db",
            "REFERRALS_REDIS_URL": redis_url,
            "REFERRALS_BROKER_URL": redis_url,
            "REFERRALS_REDIS_PREFIX": prefix,
            "PYTHONHASHSEED": "0",  # the same dict orders, run to run
        }
    )


async def send_logins(logins: int, first: int) -> None:
    """The child: ``logins`` logins through the app, each to a new phone."""
    from litestar.testing import AsyncTestClient

    from referrals.entrypoints.http.app import create_app
    from referrals.settings import load_settings

    async with AsyncTestClient(create_app(load_settings())) as client:

        async def login(number: int) -> None:
            answer = await client.post("/api/login/", json={"phone": f"+7999{number:07d}"})
            if answer.status_code != 200:
                raise SystemExit(f"login answered {answer.status_code}: {answer.text}")

        for start in range(0, logins, CONCURRENCY):
            batch = range(first + start, first + min(start + CONCURRENCY, logins))
            await asyncio.gather(*(login(number) for number in batch))


def instructions(server: str, logins: int, first: int, env: dict[str, str]) -> int:
    """The instructions a child sending ``logins`` logins executed, start to end."""
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    command += [sys.executable, __file__, "--child", server, str(logins), str(first)]
    done = subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, timeout=1800
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{server}: the child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    args = parse_args()
    if args.child:
        server, logins, first = args.child
        asyncio.run(send_logins(int(logins), int(first)))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("needs valgrind: sudo apt-get install -y valgrind")
    per_login: dict[str, float] = {}
    first = 1_000_000
    with tempfile.TemporaryDirectory() as workdir:
        for server in SERVERS:
            prefix = f"bench-instr-{secrets.token_hex(4)}:"
            env = child_env(server, args.redis_url, prefix, workdir)
            try:
                short = instructions(server, WARM, first, env)
                first += WARM
                long = instructions(server, WARM + args.logins, first, env)
                first += WARM + args.logins
            finally:
                benchlib.delete_redis_prefix(args.redis_url, prefix)
            per_login[server] = (long - short) / args.logins
            benchlib.note(f"{server}: {per_login[server]:,.0f} instructions a login")
    ratio = per_login["pg-defended"] / per_login["pg-open"]
    print("| server | instructions a login |\n|---|---:|")
    for server, count in per_login.items():
        print(f"| {server} | {count:,.0f} |")
    print(f"\nThe defences cost a login {100 * (ratio - 1):+.1f} % of its instructions.")


if __name__ == "__main__":
    main()
