"""``referrals_circuit_state``: each channel's circuit as Redis holds it, read at
scrape time by any process (docs/operations.md)."""

from __future__ import annotations

import time

import pytest

from referrals.adapters.metrics.exposition import CircuitCollector
from referrals.adapters.redis import RedisCircuitBreaker, connect_redis
from referrals.domain.routes import parse_routes
from referrals.settings import CHANNELS, Settings

pytestmark = pytest.mark.redis

COOLDOWN = 30.0


def states(settings: Settings) -> dict[str, float]:
    [family] = CircuitCollector(settings).collect()
    return {sample.labels["channel"]: sample.value for sample in family.samples}


async def test_the_gauge_shows_each_channels_circuit(
    redis_server_url: str, redis_prefix: str
) -> None:
    settings = Settings(
        secret_key=b"c" * 32,
        redis_url=redis_server_url,
        redis_prefix=redis_prefix,
        sms_routes=parse_routes("ru=smsru,smsc;*=console", CHANNELS),
        smsru_api_id="id",
        smsc_login="login",
        smsc_password="password",
    )
    client = connect_redis(redis_server_url, timeout=2.0)
    try:
        circuit = RedisCircuitBreaker(client, redis_prefix, 2, 60.0, COOLDOWN, 5.0)
        now = time.time()
        for _ in range(2):
            await circuit.failed("smsru", now)
        assert states(settings) == {"smsru": 2, "smsc": 0, "console": 0}  # open, closed

        await circuit.failed("smsc", now - COOLDOWN - 1)  # a failure long ago: still closed
        await circuit.failed("smsc", now - COOLDOWN - 1)  # its cool-down is over: half open
        assert states(settings)["smsc"] == 1
    finally:
        await client.aclose()
