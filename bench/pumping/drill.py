"""One run of the pumping drill: an hour of traffic, compressed ``scale``
times, sent over HTTP to a stack the run starts, with the fake gateway.

Each login is sent at its planned moment (at most ``CONCURRENCY`` in
flight; a late one is counted as lag). A person who verifies waits for the
code at the gateway, as on a phone, and types it at their moment. The
defence's first decision is read from ``referrals_pumping_throttled`` on
``/metrics`` (shadow refuses nothing, so only the metric shows it), or
from the first pumped login refused by it, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

from bench.pumping.client import Answer, Client, HttpError
from bench.pumping.figures import Figures
from bench.pumping.gateway import FakeGateway, fake_gateway
from bench.pumping.stacks import PRICES, Servers, drill_env, stack
from bench.pumping.traffic import HOUR, Login, hour_of_traffic, is_pumped
from tests.processes import run_cli

CONCURRENCY = 64
PATIENCE = 60.0
"""Seconds of the hour a person waits for a code before it counts as delayed."""
PRICE = float(PRICES.partition("=")[2])


class Run:
    def __init__(self, figures: Figures, client: Client, gateway: FakeGateway) -> None:
        self.figures = figures
        self.client = client
        self.gateway = gateway
        self.start = time.monotonic()

    def hour_seconds(self) -> float:
        return (time.monotonic() - self.start) * self.figures.scale

    async def post(self, path: str, body: dict[str, str], address: str) -> Answer | None:
        try:
            answer = await self.client.request("POST", path, body, {"X-Forwarded-For": address})
        except HttpError as exc:
            self.figures.server_errors[str(exc).partition(":")[0]] += 1
            return None
        if answer.status >= 500 and not _paused(answer):
            self.figures.server_errors[f"HTTP {answer.status}"] += 1
        return answer

    async def login(self, login: Login) -> None:
        figures, scale = self.figures, self.figures.scale
        asked = time.monotonic()
        answer = await self.post("/api/login/", {"phone": login.phone}, login.address)
        if answer is None or answer.status != 200:
            why = _refusal(answer)
            figures.refused_by[why] += 1
            if login.organic:
                figures.organic_refused += 1
            elif why.startswith("pumping") and figures.first_throttle is None:
                figures.first_throttle = (asked - self.start) * scale
            return
        if not login.organic:
            figures.pumped_accepted += 1
        if login.organic or login.typing is not None:
            await self.read_and_type(login, answer.json()["token"], asked)

    async def read_and_type(self, login: Login, token: str, asked: float) -> None:
        figures, scale = self.figures, self.figures.scale
        arrival = await self.gateway.code(login.phone, asked, PATIENCE / scale + 5.0)
        if arrival is None or arrival[0] - asked > PATIENCE / scale:
            figures.organic_delayed += login.organic
            if arrival is None:
                return
        figures.delivery_ms.append((arrival[0] - asked) * 1000)
        if login.typing is None:
            return
        await asyncio.sleep(max(0.0, asked + login.typing / scale - time.monotonic()))
        body = {"confirm_code": arrival[1]}
        answer = await self.post(f"/api/verify/{token}/", body, login.address)
        if login.organic:
            if answer is not None and answer.status == 200:
                figures.organic_verified += 1
            else:
                figures.organic_refused += 1
                figures.refused_by["verify " + _refusal(answer)] += 1

    async def watch_metric(self) -> None:
        """Until cancelled: note when ``/metrics`` first counts a throttle decision."""
        while True:
            with contextlib.suppress(HttpError):
                text = (await self.client.request("GET", "/metrics")).body.decode()
                if _throttled(text):
                    seen = self.hour_seconds()
                    first = self.figures.first_throttle
                    self.figures.first_throttle = seen if first is None else min(first, seen)
                    return
            await asyncio.sleep(0.25)


def _paused(answer: Answer) -> bool:
    return answer.status == 503 and b"sending_paused" in answer.body


def _refusal(answer: Answer | None) -> str:
    """``pumping_prefix``, ``ip_send``… for a 429; else the problem's code."""
    if answer is None:
        return "no answer"
    try:
        body = answer.json()
    except json.JSONDecodeError:
        return f"HTTP {answer.status}"
    return str(body.get("limit") or body.get("code") or answer.status)


def _throttled(metrics: str) -> bool:
    for line in metrics.splitlines():
        if line.startswith("referrals_pumping_throttled_total") and float(line.split()[-1]) > 0:
            return True
    return False


async def traffic(figures: Figures, url: str, gateway: FakeGateway, logins: list[Login]) -> None:
    client = Client(int(url.rsplit(":", 1)[1]), CONCURRENCY)
    try:
        run = Run(figures, client, gateway)
        watcher = asyncio.create_task(run.watch_metric())
        tasks = []
        for login in logins:
            figures.organic += login.organic
            figures.pumped += not login.organic
            planned = run.start + login.at / figures.scale
            await asyncio.sleep(max(0.0, planned - time.monotonic()))
            figures.lag = max(figures.lag, time.monotonic() - planned)
            tasks.append(asyncio.create_task(run.login(login)))
        await asyncio.gather(*tasks)
        await _settled(gateway)
        watcher.cancel()
        figures.seconds = time.monotonic() - run.start
    finally:
        await client.aclose()


async def _settled(gateway: FakeGateway, quiet: float = 1.0, bound: float = 30.0) -> None:
    """Until no SMS reached the gateway for ``quiet`` seconds (queued codes delivered)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        before = gateway.messages
        await asyncio.sleep(quiet)
        if gateway.messages == before:
            return


def spend_ledger(env: dict[str, str]) -> float | None:
    """The day's spend as ``referrals stats`` reads it (shared stores only)."""
    if "REFERRALS_REDIS_URL" not in env:
        return None  # the embedded ledger lives in the server process
    done = run_cli("stats", "--json", env=env)
    if done.returncode != 0:
        return None
    lines = json.loads(done.stdout).get("spend_today") or []
    return float(sum(line["amount"] for line in lines))


async def run(
    mode: str,
    logins: list[Login],
    *,
    scale: float,
    min_volume: int,
    logs: Path,
    servers: Servers | None = None,
) -> Figures:
    """Start the stack in ``mode`` (``embedded``, or ``postgres+redis`` on
    ``servers``), send ``logins``, stop it; what was measured."""
    figures = Figures("embedded" if servers is None else "postgres+redis", mode, scale)
    async with fake_gateway() as gateway:
        env = drill_env(mode, gateway.url, scale, min_volume)
        with stack(env, logs, servers) as (url, settings):
            await traffic(figures, url, gateway, logins)
            figures.spend_ledger = await asyncio.to_thread(spend_ledger, settings)
    figures.pumped_sent = sum(
        len(arrivals) for phone, arrivals in gateway.arrivals.items() if is_pumped(phone)
    )
    figures.spend = gateway.segments * PRICE
    return figures


__all__ = ["HOUR", "hour_of_traffic", "run"]
