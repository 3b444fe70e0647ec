"""What the embedded default keeps in memory after a bench-sized run.

Replays the bench's embedded scenarios through the service itself, without
HTTP: ``--logins`` logins of new random phones (as ``wrk/random_login.lua``'s)
from one address with the bench's load-test settings
(``benchlib.OURS_LOAD_SETTINGS``), a verify of each, a profile read for each
session, the clock moved on ``--pace`` seconds a login. Then it prints the
process's resident memory (``--trim``: also after glibc's ``malloc_trim``),
each in-memory store's entry count, and (``--trace``) the tracemalloc
allocations that grew most over the run, by line::

    .venv/bin/python bench/embedded_memory.py --logins 100000 --trace
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import os
import random
import tempfile
import time
import tracemalloc
from collections import deque
from pathlib import Path

from benchlib import OURS_LOAD_SETTINGS
from referrals.application.request_code import CodeRequest
from referrals.application.verify import VerifyCode
from referrals.service import Adapters, Service, open_service
from referrals.settings import load_settings

ADDRESS = "10.1.2.3"
ROUND = 1_000
STEP = 7_919
"""random_login.lua's: numbers walk in steps of a prime, so none repeats."""


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PacedClock:
    """The system clock, moved on by ``pace`` seconds at each :meth:`step`: a
    replay as fast as the CPU goes sees time pass as the bench's run does."""

    def __init__(self, pace: float) -> None:
        self.pace = pace
        self._ahead = 0.0

    def step(self) -> None:
        self._ahead += self.pace

    def now(self) -> float:
        return time.time() + self._ahead


async def replay(service: Service, clock: PacedClock, logins: int, first: int) -> None:
    """In rounds of :data:`ROUND` as the bench's pools go: logins, their codes
    delivered, a verify of each, then a profile read with each session."""
    start_at = random.randrange(10**8)
    for start in range(first, first + logins, ROUND):
        asked = []
        for n in range(start, min(start + ROUND, first + logins)):
            clock.step()
            phone = f"+79{4 + n % 6}{(start_at + n * STEP) % 10**8:08d}"  # as random_login.lua
            asked.append(await service.request_code(CodeRequest(phone=phone, client_ip=ADDRESS)))
        await service.drain_deliveries()
        sessions = []
        for login in asked:
            assert login.code is not None
            verified = await service.verify(VerifyCode(login.token, login.code, ADDRESS, "wrk"))
            sessions.append(verified.session.token)
        for token in sessions:
            await service.get_profile(await service.authenticate(token))


def stores(service: Service) -> dict[str, int]:
    """Entries of each in-memory store the use cases hold: the length of each
    of its collections, by store and attribute."""
    found: dict[str, int] = {}
    seen: set[int] = set()
    todo: list[object] = [getattr(service, name) for name in service.__slots__]
    while todo:
        thing = todo.pop()
        if id(thing) in seen or isinstance(thing, (str, bytes, int, float, type)):
            continue
        seen.add(id(thing))
        module = type(thing).__module__
        if module.startswith("referrals.adapters.memory"):
            for name, value in vars_of(thing).items():
                if isinstance(value, (dict, list, set, deque)):
                    found[f"{type(thing).__name__}.{name}"] = len(value)
        elif module.startswith("referrals."):
            todo.extend(vars_of(thing).values())
    return found


def vars_of(thing: object) -> dict[str, object]:
    names = getattr(thing, "__slots__", None) or getattr(thing, "__dict__", {})
    return {name: getattr(thing, name, None) for name in names}


async def main(logins: int, pace: float, trace: bool, top: int, trim: bool) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        env = dict(OURS_LOAD_SETTINGS) | {
            "REFERRALS_DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
            "REFERRALS_LOG_LEVEL": "ERROR",
        }
        settings = load_settings(env)
        clock = PacedClock(pace)
        async with open_service(settings, adapters=Adapters(clock=clock)) as service:
            await replay(
                service, clock, 2000, 0
            )  # warm: modules, caches, the first pages of SQLite
            gc.collect()
            before_mb = resident_mb()
            if trace:
                tracemalloc.start(1)
            baseline = tracemalloc.take_snapshot() if trace else None
            started = time.monotonic()
            await replay(service, clock, logins, 2000)
            took = time.monotonic() - started
            gc.collect()
            after_mb = resident_mb()
            print(f"{logins:,} logins + verifies + profile reads in {took:.0f} s")
            print(f"resident: {before_mb:.0f} MB before, {after_mb:.0f} MB after")
            if trim:
                ctypes.CDLL("libc.so.6").malloc_trim(0)
                print(f"after malloc_trim(0): {resident_mb():.0f} MB")
            for name, size in sorted(stores(service).items()):
                print(f"  {name}: {size:,}")
            if baseline is not None:
                diff = tracemalloc.take_snapshot().compare_to(baseline, "lineno")
                grown = sum(stat.size_diff for stat in diff)
                print(f"tracemalloc: {grown / 2**20:.1f} MiB more, top {top} lines:")
                for stat in diff[:top]:
                    mib = stat.size_diff / 2**20
                    print(f"  {mib:7.2f} MiB {stat.count_diff:+9,d}  {stat.traceback}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=100_000)
    parser.add_argument(
        "--pace",
        type=float,
        default=0.006,
        help="seconds the clock moves per login (0.006: 100,000 in the bench's 10 minutes)",
    )
    parser.add_argument("--trace", action="store_true", help="tracemalloc diff by line")
    parser.add_argument("--trim", action="store_true", help="then glibc's malloc_trim(0)")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(main(args.logins, args.pace, args.trace, args.top, args.trim))
