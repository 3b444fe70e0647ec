"""One run of the pumping drill: an hour of traffic, compressed ``scale``
times, sent over HTTP to a stack the run starts, with the fake gateway;
then referral farming (:mod:`bench.pumping.farming`) on the same server.

Each login is sent at its planned moment (at most ``CONCURRENCY`` in
flight; a late one is counted as lag); :mod:`bench.pumping.people` plays
what each person does with it.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from bench.pumping.client import Client
from bench.pumping.farming import farm, friends, review
from bench.pumping.figures import Figures
from bench.pumping.gateway import FakeGateway, fake_gateway
from bench.pumping.people import Run
from bench.pumping.stacks import PRICES, Servers, drill_env, stack
from bench.pumping.traffic import HOUR, Login, hour_of_traffic, is_pumped
from tests.processes import run_cli

CONCURRENCY = 64
PRICE = float(PRICES.partition("=")[2])


async def traffic(
    figures: Figures, url: str, gateway: FakeGateway, logins: list[Login], referrals: bool
) -> None:
    client = Client(int(url.rsplit(":", 1)[1]), CONCURRENCY)
    try:
        run = Run(figures, client, gateway)
        if referrals:
            figures.farmed = await farm(run)
        run.start = time.monotonic()  # the hour starts after the farm
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
        figures.seconds = time.monotonic() - run.start
        if referrals:
            figures.friends = await friends(run)
        await _settled(gateway, figures.accepted)
        watcher.cancel()
    finally:
        await client.aclose()


async def _settled(gateway: FakeGateway, expected: int, bound: float = 60.0) -> None:
    """Until the gateway got the ``expected`` SMS (every code queued was
    delivered), or ``bound`` seconds passed."""
    for _ in range(int(bound / 0.2)):
        if gateway.messages >= expected:
            return
        await asyncio.sleep(0.2)


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
    referrals: bool = True,
) -> Figures:
    """Start the stack in ``mode`` (``embedded``, or ``postgres+redis`` on
    ``servers``), send ``logins`` (and farm referrals, unless ``referrals`` is
    false), stop it; what was measured."""
    figures = Figures("embedded" if servers is None else "postgres+redis", mode, scale)
    async with fake_gateway() as gateway:
        env = drill_env(mode, gateway.url, scale, min_volume)
        # Started and stopped in a thread: a stopping server still delivers its
        # queued codes, and the gateway on this loop must keep answering them.
        servers_up = stack(env, logs, servers)
        url, settings = await asyncio.to_thread(servers_up.__enter__)
        try:
            await traffic(figures, url, gateway, logins, referrals)
            figures.spend_ledger = await asyncio.to_thread(spend_ledger, settings)
            if referrals:
                figures.reviewed = await asyncio.to_thread(review, settings)
        finally:
            await asyncio.to_thread(servers_up.__exit__, None, None, None)
    figures.pumped_sent = sum(
        len(arrivals) for phone, arrivals in gateway.arrivals.items() if is_pumped(phone)
    )
    figures.spend = gateway.segments * PRICE
    return figures


__all__ = ["HOUR", "hour_of_traffic", "run"]
