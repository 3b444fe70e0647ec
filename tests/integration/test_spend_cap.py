"""The spend cap across processes (docs/sending-codes.md, *Spend*): two API
processes on one Redis, 500 logins at once at the edge of the cap. The cap is
passed by less than one message, the rest answer 503 ``sending_paused``, and
``referrals stats`` shows the day's spend."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.workers import redis_env
from tests.processes import run_cli, serving
from tests.servers import RedisServer, redis_server

pytestmark = pytest.mark.slow

PRICE, CAP = 1.5, 100


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


async def burst(url: str, logins: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        return await asyncio.gather(
            *(
                client.post(
                    "/api/login/",
                    json={"phone": f"+7999{n:04d}123"},  # a block of numbers each
                    headers={"X-Forwarded-For": f"10.1.{n // 250}.{n % 250}"},
                )
                for n in range(logins)
            )
        )


def test_500_logins_at_once_pass_the_cap_by_less_than_one_message(
    tmp_path: Path, redis: RedisServer
) -> None:
    env = redis_env(
        tmp_path,
        redis.url,
        "spend:",
        sms_prices=f"*={PRICE}",
        spend_cap=f"{CAP}/86400",
        trusted_proxies="127.0.0.1",
    )
    with serving(env, tmp_path, "--workers", "2") as (url, _):
        answers = asyncio.run(burst(url, 500))
        stats = run_cli("stats", "--json", env=env)

    codes = Counter((a.status_code, a.json().get("code")) for a in answers if a.status_code != 200)
    sent = sum(a.status_code == 200 for a in answers)
    assert sent == 67  # 66 x 1.5 = 99 is below the cap, the 67th reaches 100.5
    assert codes == {(503, "sending_paused"): 500 - sent}
    assert all(int(a.headers["retry-after"]) >= 1 for a in answers if a.status_code == 503)
    spend = json.loads(stats.stdout)["spend_today"]
    assert spend == [{"channel": "console", "country": "ru", "amount": sent * PRICE}]
    assert sent * PRICE - CAP < PRICE


def test_an_operator_pins_lists_and_clears_a_pumped_range(
    tmp_path: Path, redis: RedisServer
) -> None:
    env = redis_env(tmp_path, redis.url, "pumping:")
    pinned = run_cli("pumping", "pin", "prefix:+799980", "--json", env=env)
    with serving(env, tmp_path) as (url, _):
        refused = httpx.post(f"{url}/api/login/", json={"phone": "+79998012345"})
    listed = run_cli("pumping", "list", "--json", env=env)
    cleared = run_cli("pumping", "clear", "prefix:+799980", "--json", env=env)
    after = run_cli("pumping", "list", "--json", env=env)

    assert pinned.returncode == 0, pinned.stderr
    assert (refused.status_code, refused.json()["limit"]) == (429, "pumping_prefix")
    groups = json.loads(listed.stdout)["groups"]
    assert [(g["group"], g["mark"], g["throttled"]) for g in groups] == [
        ("prefix:+799980", "pinned", True)
    ]
    assert cleared.returncode == 0
    assert json.loads(after.stdout)["groups"] == []
    assert run_cli("pumping", "pin", "+79998012345", env=env).returncode == 2
