"""Pre-created logins and sessions for the verify and apply scenarios, made through the API.

Every wrk run that logs in records the ``token code`` of each answer, and
every verify run records the session it opened, so the login scenario feeds
verify and verify feeds apply. When a pool is short before a window, wrk
tops it up at full speed (``random_login.lua``, then ``verify.lua``). Each
token goes to one request only; what a run did not send goes back to its pool.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import benchlib
from benchlib import Measure, note

T = TypeVar("T")
LOGIN_MAX_AGE = 240.0
"""Seconds a recorded login is used for: its code lives 300 s (REFERRALS_CODE_TTL)."""
MARGIN = 2.0
"""Pool size over the estimated need of a window: rates swing on a shared machine."""
TOP_UP_BUDGET = 120.0
"""Seconds one top-up may take before the window runs on what there is."""


@dataclass(frozen=True)
class Load:
    """How wrk runs: connections, threads, and the command in front of wrk."""

    connections: int
    threads: int
    pin: Sequence[str]


@dataclass
class Pools:
    name: str
    port: int
    workdir: Path
    load: Load
    codes: Sequence[str]
    """The invite codes apply hands out in turn."""
    logins: deque[tuple[float, str]] = field(default_factory=deque)
    sessions: deque[str] = field(default_factory=deque)
    rates: dict[str, float] = field(default_factory=dict)
    """Best requests/s seen per script, to size the pools."""
    runs: int = 0

    # --- running wrk --------------------------------------------------------------------

    def wrk(
        self, script: str, path: str, args: Sequence[str], seconds: float, *, rate: bool = True
    ) -> Measure:
        """One wrk run; its rate counts for the estimates unless ``rate`` is false."""
        measure = benchlib.run_wrk(
            self.port, path, script, args, seconds=seconds, connections=self.load.connections,
            threads=self.load.threads, pin=self.load.pin,
        )  # fmt: skip
        # Tokens taken, not answers counted: in a 1 s run at 300 ms latency the
        # answers miss the requests still in flight (Little's law puts them back).
        served = measure.raw.get("consumed") or measure.requests - measure.raw.get("exhausted", 0)
        served_rate = served / measure.seconds
        if measure.raw.get("exhausted", 0):
            served_rate *= 2  # it ran out: the real rate is higher than this
        if rate:
            self.rates[script] = max(self.rates.get(script, 0.0), served_rate)
        return measure

    def new_file(self, kind: str) -> Path:
        self.runs += 1
        return self.workdir / f"{kind}-{self.runs}"

    def collect(self, prefix: Path) -> list[str]:
        """The lines wrk's threads recorded under ``prefix`` (files ``<prefix>-<id>``)."""
        lines = []
        for path in sorted(prefix.parent.glob(prefix.name + "-*")):
            lines += [line for line in path.read_text().splitlines() if line.strip()]
            path.unlink()
        return lines

    def write(self, kind: str, lines: Sequence[str]) -> Path:
        path = self.new_file(kind)
        path.write_text("".join(line + "\n" for line in lines))
        return path

    # --- the scripts that fill the pools -------------------------------------------------

    def login_args(self) -> tuple[list[str], Path]:
        """random_login.lua's arguments, and where it records: take with ``add_logins``."""
        prefix = self.new_file("logins")
        return [str(secrets.randbelow(2**31)), str(prefix)], prefix

    def add_logins(self, prefix: Path) -> None:
        now = time.monotonic()
        self.logins.extend((now, line) for line in self.collect(prefix))

    def run_verify(self, count: int, seconds: float, *, rate: bool = True) -> Measure:
        """verify.lua on ``count`` logins; the sessions it opens join apply's pool."""
        taken = self.take_logins(count)
        pool = self.write("verify-pool", [line for _, line in taken])
        prefix = self.new_file("sessions")
        with cleanup(prefix, self):
            args = [str(pool), str(self.load.threads), str(prefix)]
            measure = self.wrk("verify", "/api/verify/", args, seconds, rate=rate)
            self.sessions.extend(self.collect(prefix))
        self.logins.extendleft(reversed(self.unused(taken, measure)))
        return measure

    def run_apply(self, count: int, seconds: float, *, rate: bool = True) -> Measure:
        """apply.lua on ``count`` sessions."""
        taken = self.take_sessions(count)
        pool = self.write("apply-pool", taken)
        args = [str(pool), str(self.load.threads), ",".join(self.codes)]
        measure = self.wrk("apply", "/api/profile/", args, seconds, rate=rate)
        self.sessions.extendleft(reversed(self.unused(taken, measure)))
        return measure

    def unused(self, taken: Sequence[T], measure: Measure) -> list[T]:
        """What wrk did not send (its one thread took them in order), to use again."""
        if self.load.threads != 1:
            return []
        return list(taken[measure.raw.get("consumed", len(taken)) :])

    # --- taking from them ------------------------------------------------------------------

    def fresh_logins(self) -> int:
        limit = time.monotonic() - LOGIN_MAX_AGE
        while self.logins and self.logins[0][0] < limit:
            self.logins.popleft()
        return len(self.logins)

    def take_logins(self, count: int) -> list[tuple[float, str]]:
        self.fresh_logins()
        return [self.logins.popleft() for _ in range(min(count, len(self.logins)))]

    def take_sessions(self, count: int) -> list[str]:
        return [self.sessions.popleft() for _ in range(min(count, len(self.sessions)))]

    def need(self, script: str, seconds: float) -> int:
        return int(self.rates[script] * seconds * MARGIN) + 100

    def top_up_logins(self, count: int, deadline: float) -> None:
        while self.fresh_logins() < count and time.monotonic() < deadline:
            short = count - len(self.logins)
            rate = self.rates.get("random_login")
            seconds = 2 if rate is None else min(60, max(1, round(short * 1.15 / rate)))
            args, prefix = self.login_args()
            with cleanup(prefix, self):
                self.wrk("random_login", "/api/login/", args, seconds)
                self.add_logins(prefix)

    def top_up_sessions(self, count: int, deadline: float) -> None:
        if "verify" not in self.rates:
            self.probe("verify", deadline)
        while len(self.sessions) < count and time.monotonic() < deadline:
            wanted = int((count - len(self.sessions)) * 1.1) + 50
            self.top_up_logins(wanted, deadline)
            self.run_verify(wanted, min(60, max(1, round(wanted / self.rates["verify"]))))

    def ensure(self, script: str, seconds: Sequence[float]) -> None:
        """Enough logins (verify) or sessions (apply) for windows of ``seconds``."""
        started = time.monotonic()
        deadline = started + TOP_UP_BUDGET
        if script not in self.rates:
            self.probe(script, deadline)
        total = sum(self.need(script, s) for s in seconds)
        if script == "verify":
            self.top_up_logins(total, deadline)
            have = self.fresh_logins()
        else:
            self.top_up_sessions(total, deadline)
            have = len(self.sessions)
        kind = "logins" if script == "verify" else "sessions"
        took = f"{time.monotonic() - started:.0f} s of top-ups"
        note(f"{self.name} {script}: {have:,} {kind} for {total:,} wanted ({took})")

    def probe(self, script: str, deadline: float) -> None:
        """Two 1 s runs: the first warms the server up (a new kind of request on a new
        server runs at half speed for a moment), the second gives the rate."""
        if script == "verify":
            self.top_up_logins(500, deadline)
            self.run_verify(len(self.logins), 1, rate=False)
            self.top_up_logins(500, deadline)
            self.run_verify(len(self.logins), 1)
            return
        self.top_up_sessions(500, deadline)
        self.run_apply(len(self.sessions), 1, rate=False)
        self.top_up_sessions(500, deadline)
        self.run_apply(len(self.sessions), 1)


@contextlib.contextmanager
def cleanup(prefix: Path, pools: Pools) -> Iterator[None]:
    """Drop what a failed run left under ``prefix``."""
    try:
        yield None
    finally:
        pools.collect(prefix)
