"""The ConversionLog contract (:mod:`referrals.testing.contracts.conversion`) on every
adapter, given by the parametrised fixture in conftest.py."""

import pytest

from referrals.adapters.redis import RedisConversionLog, connect_redis
from referrals.testing.contracts import ConversionLogContract
from tests.defaults import TIMEOUT


class TestConversionLogContract(ConversionLogContract):
    pass


@pytest.mark.redis
async def test_counting_a_marked_group_on_redis_keeps_its_mark_from_expiring(
    redis_server_url: str, redis_prefix: str
) -> None:
    client = connect_redis(redis_server_url, timeout=TIMEOUT)
    try:
        log = RedisConversionLog(client, redis_prefix, 60.0)
        await log.mark("prefix:+799980", "pinned")
        await log.add(["prefix:+799980", "cc:7"], "sent", 1_764_417_600.0, 3600.0)

        assert await client.pttl(f"{redis_prefix}conv:{{prefix:+799980}}") == -1  # no expiry
        assert await client.pttl(f"{redis_prefix}conv:{{cc:7}}") > 0
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_a_busy_group_on_redis_keeps_only_its_window_of_buckets(
    redis_server_url: str, redis_prefix: str
) -> None:
    client = connect_redis(redis_server_url, timeout=TIMEOUT)
    try:
        log = RedisConversionLog(client, redis_prefix, 60.0)
        for minute in range(180):  # three hours, a window of one
            at = 1_764_417_600.0 + 60 * minute
            await log.add(["cc:7"], "sent", at, 3600.0)
            await log.add(["cc:7"], "verified", at, 3600.0)

        fields = await client.hlen(f"{redis_prefix}conv:{{cc:7}}")
        assert fields <= 2 * 62 + 1 + 3  # sent and verified of the 61 buckets kept, one new,
        # the mark's room and the three running totals
        assert await log.counts(["cc:7"], at - 3600.0) == [(61, 61, "")]
    finally:
        await client.aclose()
