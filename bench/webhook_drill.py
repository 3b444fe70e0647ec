"""The webhook drill: sign-ups and referral applications through real
processes while the receiver answers 503, is killed and restarted, and a
worker (or, embedded, the one server) is SIGKILLed mid-delivery; then every
event in the database must have reached the receiver (docs/events.md).

    python3 dev.py webhook-drill                      # 500 sign-ups, 300 applies, both modes
    .venv/bin/python -m bench.webhook_drill --signups 50 --applies 30 --busy 5

PostgreSQL + Redis mode runs ``referrals serve --workers 2`` and two
``referrals worker`` processes on throwaway servers of its own (or on
``--database-url``/``--redis-url``); the embedded mode one ``referrals
serve`` on SQLite, restarted. The receiver is examples/webhook_receiver
(it verifies each signature: an unsigned or badly signed request is
refused, never recorded). Prints the figures; exits 1 if one was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from bench.soak.stack import migrate
from tests.processes import BIN, Process, free_port, started, wait_until_serving

ROOT = Path(__file__).resolve().parents[1]
RECEIVER_DIR = ROOT / "examples" / "webhook_receiver"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - a drill's own key
SECRET_KEY = "webhook-drill-secret-key-0123456789abcdef"  # noqa: S105
CONCURRENCY = 16


@dataclass
class Report:
    mode: str
    events: int = 0
    """Rows in the outbox when everything settled."""
    arrived: int = 0
    """Distinct webhook-ids the receiver recorded (each with a valid signature)."""
    lost: list[str] = field(default_factory=list)
    duplicates: int = 0
    out_of_order: int = 0
    refused_requests: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.lost and not self.out_of_order and self.arrived == self.events > 0

    def lines(self) -> list[str]:
        return [
            f"{self.mode}: {self.events} events in the outbox, {self.arrived} arrived"
            f" (distinct webhook-id, signature verified), {len(self.lost)} lost,"
            f" {self.duplicates} duplicates dropped by the receiver,"
            f" {self.out_of_order} users out of order, {self.seconds:.1f} s",
            *self.notes,
        ]


class Receiver:
    """examples/webhook_receiver under Granian, killed and restarted at will."""

    def __init__(self, logs: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhooks"
        self.database = logs / "shop.sqlite3"
        self._logs = logs
        self._process: subprocess.Popen[bytes] | None = None
        self._starts = 0

    def start(self, busy_for: float = 0.0) -> None:
        self._starts += 1
        env = {
            **os.environ,
            "RECEIVER_SECRET": SECRET,
            "RECEIVER_DB": str(self.database),
            "RECEIVER_BUSY_UNTIL": str(time.time() + busy_for),
        }
        log = (self._logs / f"receiver-{self._starts}.log").open("wb")
        self._process = subprocess.Popen(
            [
                str(BIN / "granian"),
                "--interface",
                "asgi",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--working-dir",
                str(RECEIVER_DIR),
                "receiver:create_app_from_env",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"http://127.0.0.1:{self.port}/bonuses", timeout=1)
                return
            time.sleep(0.1)
        raise RuntimeError("the receiver did not start")

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(10)

    def received(self) -> list[tuple[str, str, int | None, int]]:
        """(webhook_id, type, user_id, copies), in order of first arrival."""
        with sqlite3.connect(self.database) as db:
            return db.execute(
                "SELECT webhook_id, type, user_id, copies FROM received ORDER BY arrival"
            ).fetchall()


def drill_env(receiver: Receiver, **values: str) -> dict[str, str]:
    webhooks = [{"name": "shop", "url": receiver.url, "secret": SECRET, "events": ["*"]}]
    return {
        "REFERRALS_SECRET_KEY": SECRET_KEY,
        "REFERRALS_WEBHOOKS": json.dumps(webhooks),
        "REFERRALS_WEBHOOK_TIMEOUT": "2",
        "REFERRALS_WEBHOOK_BACKOFF": "0.2",
        "REFERRALS_WEBHOOK_POLL": "0.05",
        "REFERRALS_TRUSTED_PROXIES": "127.0.0.1",  # each person has an address of its own
        "REFERRALS_LIMIT_PREFIX_SEND": "1000000/3600",
        "REFERRALS_LIMIT_COUNTRY_SEND": "1000000/3600",
        "REFERRALS_LIMIT_GLOBAL_SEND": "1000000/3600",
        **values,
    }


async def _sign_up(client: httpx.AsyncClient, number: int) -> tuple[str, str]:
    """A new person logs in; (their bearer token, their invite code)."""
    address = {
        "x-forwarded-for": f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
    }
    phone = f"+7999{number:07d}"
    for _ in range(50):  # a restart or an outage answers 503 for a while
        try:
            login = await client.post("/api/login/", json={"phone": phone}, headers=address)
            if login.status_code == 200:
                body = login.json()
                verify = await client.post(
                    body["next_page"], json={"confirm_code": body["confirm_code"]}, headers=address
                )
                if verify.status_code == 200:
                    answer = verify.json()
                    return answer["access_token"], answer["user"]["invite_referral_code"]
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{phone} could not sign up")


async def _apply(client: httpx.AsyncClient, token: str, code: str) -> None:
    for _ in range(50):
        with contextlib.suppress(httpx.HTTPError):
            answer = await client.post(
                "/api/profile/",
                json={"used_referral_code": code},
                headers={"authorization": f"Bearer {token}"},
            )
            if answer.status_code in {200, 409}:  # 409: applied by a try that lost its answer
                return
        await asyncio.sleep(0.2)
    raise RuntimeError("an application did not go through")


async def traffic(url: str, signups: int, applies: int, first: int = 0) -> None:
    """``signups`` people sign up; ``applies`` of them (not the first) apply an
    earlier person's code (never a cycle)."""
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:

        async def one(number: int) -> tuple[str, str]:
            async with gate:
                return await _sign_up(client, first + number)

        people = await asyncio.gather(*(one(n) for n in range(signups)))
        draw = random.Random(first)

        async def apply(number: int) -> None:
            async with gate:
                await _apply(client, people[number][0], people[draw.randrange(number)][1])

        chosen = draw.sample(range(1, signups), min(applies, signups - 1))
        await asyncio.gather(*(apply(n) for n in chosen))


def _after(seconds: float, action: object) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()  # type: ignore[operator]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _outbox(database_url: str) -> list[tuple[str, str, int | None]]:
    """(id, type, user_id) of every outbox row, in the outbox's order."""
    from sqlalchemy import create_engine, text

    url = database_url.replace("sqlite+aiosqlite", "sqlite")
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, type, user_id FROM referrals_outbox ORDER BY seq"))
        found = [(row[0], row[1], row[2]) for row in rows]
    engine.dispose()
    return found


def _settled(database_url: str) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.replace("sqlite+aiosqlite", "sqlite"))
    with engine.connect() as conn:
        pending = conn.execute(
            text("SELECT count(*) FROM referrals_webhook_deliveries WHERE state = 'pending'")
        ).scalar_one()
        unfanned = conn.execute(
            text("SELECT count(*) FROM referrals_outbox WHERE NOT dispatched")
        ).scalar_one()
    engine.dispose()
    return pending == 0 and unfanned == 0


def wait_settled(database_url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _settled(database_url):
        if time.monotonic() > deadline:
            raise TimeoutError(f"deliveries still pending after {timeout} s")
        time.sleep(0.2)


def judge(report: Report, database_url: str, receiver: Receiver) -> Report:
    outbox = _outbox(database_url)
    received = receiver.received()
    report.events = len(outbox)
    report.arrived = len(received)
    arrived = {row[0] for row in received}
    report.lost = [row[0] for row in outbox if row[0] not in arrived]
    report.duplicates = sum(row[3] - 1 for row in received)
    position = {row[0]: n for n, row in enumerate(outbox)}
    by_user: dict[int, list[int]] = defaultdict(list)
    for webhook_id, _, user_id, _ in received:
        if user_id is not None and webhook_id in position:
            by_user[user_id].append(position[webhook_id])
    report.out_of_order = sum(1 for seen in by_user.values() if seen != sorted(seen))
    return report


def kill_group(process: Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.popen.pid, signal.SIGKILL)
    process.popen.wait(10)


def queue_drill(
    database_url: str, redis_url: str, logs: Path, signups: int, applies: int, busy: float
) -> Report:
    """PostgreSQL + Redis: two API processes, two workers, one SIGKILLed."""
    report = Report("postgresql+redis (2 API processes, 2 workers)")
    receiver = Receiver(logs)
    receiver.start(busy_for=busy)
    env = drill_env(
        receiver,
        REFERRALS_DATABASE_URL=database_url,
        REFERRALS_REDIS_URL=redis_url,
        REFERRALS_BROKER_URL=redis_url,
        REFERRALS_REDIS_PREFIX=f"drill-{os.getpid()}-{time.monotonic_ns()}:",
        REFERRALS_SMS_DELAY="0-0",
    )
    migrate(env, logs / "migrate.log")
    started_at = time.monotonic()
    port = free_port()
    with contextlib.ExitStack() as stop:
        stop.callback(receiver.kill)
        api = stop.enter_context(
            started(["serve", "--port", str(port), "--workers", "2"], env, logs / "api.log")
        )
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, api, timeout=60)
        workers = [
            stop.enter_context(started(["worker", "--workers", "1"], env, logs / f"worker-{n}.log"))
            for n in (1, 2)
        ]
        stop.callback(lambda: [kill_group(w) for w in workers])

        def receiver_restarts() -> None:
            receiver.kill()
            time.sleep(1.0)
            receiver.start()
            time.sleep(0.3)  # the backlog is flowing: a worker dies mid-delivery
            kill_group(workers[0])
            report.notes.append("  receiver killed and restarted; worker 1 SIGKILLed after it")

        chaos = _after(busy, receiver_restarts)
        asyncio.run(traffic(url, signups, applies))
        chaos.join()
        wait_settled(database_url, timeout=120 + signups / 5)
        report.seconds = time.monotonic() - started_at
    return judge(report, database_url, receiver)


def embedded_drill(logs: Path, signups: int, applies: int, busy: float) -> Report:
    """The embedded default: one `referrals serve` on SQLite, SIGKILLed and restarted."""
    report = Report("embedded (SQLite, one process, restarted)")
    database_url = f"sqlite:///{logs}/embedded.sqlite3"
    receiver = Receiver(logs)
    receiver.start(busy_for=busy)
    env = drill_env(receiver, REFERRALS_DATABASE_URL=database_url, REFERRALS_SMS_DELAY="0-0")
    started_at = time.monotonic()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["serve", "--port", str(port)]
    with contextlib.ExitStack() as stop:
        stop.callback(receiver.kill)
        with started(args, env, logs / "embedded-1.log") as first:
            wait_until_serving(url, first, timeout=60)
            asyncio.run(traffic(url, signups // 2, applies // 2))
            kill_group(first)  # mid-delivery: the receiver is still answering 503
        report.notes.append("  server SIGKILLed with deliveries pending, then started again")
        second = stop.enter_context(started(args, env, logs / "embedded-2.log"))
        wait_until_serving(url, second, timeout=60)
        remaining = max(0.0, busy - (time.monotonic() - started_at))
        chaos = _after(remaining, lambda: (receiver.kill(), time.sleep(1.0), receiver.start()))
        asyncio.run(traffic(url, signups - signups // 2, applies - applies // 2, signups // 2))
        chaos.join()
        wait_settled(database_url, timeout=120 + signups / 5)
        report.seconds = time.monotonic() - started_at
    return judge(report, database_url, receiver)


@contextlib.contextmanager
def throwaway_servers() -> Iterator[tuple[str, str]]:
    from tests.servers import postgres_cluster, redis_server

    with postgres_cluster() as postgres, redis_server(persist=True) as redis:
        yield postgres.url, redis.url


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_drill", description=__doc__)
    parser.add_argument("--signups", type=int, default=500)
    parser.add_argument("--applies", type=int, default=300)
    parser.add_argument("--busy", type=float, default=30.0, help="seconds the receiver answers 503")
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--mode", choices=["both", "queue", "embedded"], default="both")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="webhook-drill-"))
    reports: list[Report] = []
    if args.mode in {"both", "embedded"}:
        reports.append(embedded_drill(logs, args.signups, args.applies, args.busy))
    if args.mode in {"both", "queue"}:
        with contextlib.ExitStack() as stop:
            if args.database_url and args.redis_url:
                urls = (args.database_url, args.redis_url)
            else:
                urls = stop.enter_context(throwaway_servers())
            reports.append(queue_drill(*urls, logs, args.signups, args.applies, args.busy))
    for report in reports:
        print("\n".join(report.lines()))
    print(f"logs: {logs}")
    return 0 if all(report.ok for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
