"""The SendGate contract (:mod:`referrals.testing.contracts.send_gate`) on every
adapter, given by the parametrised fixture in conftest.py: the in-memory
stores under the stepped gate, Redis (one script) and Redis Cluster (a script
per slot)."""

import pytest

from referrals.adapters.redis import RedisConversionLog, RedisSendGate, connect_redis
from referrals.adapters.redis.support import TOTALS_RESYNC as RESYNC
from referrals.domain.limits import GroupFigures, Pumping
from referrals.testing.contracts import GateParts, SendGateContract
from tests.defaults import TIMEOUT


class TestSendGateContract(SendGateContract):
    @pytest.fixture(autouse=True)
    def _decides(self, gate: GateParts, request: pytest.FixtureRequest) -> None:
        # On Redis Cluster every quota, group and the spend is decided on its own.
        self.decides_all_at_once = "redis-cluster" not in request.node.callspec.id


NOON, HOUR = 1_764_417_600.0, 3600.0
START = int(NOON // 60)


@pytest.mark.redis
async def test_a_group_hash_written_before_the_totals_is_summed_whole_once(
    redis_server_url: str, redis_prefix: str
) -> None:
    """A rolling upgrade: the code before the running totals wrote buckets
    only. The gate sums such a hash whole once, and keeps its totals from then on."""
    client = connect_redis(redis_server_url, timeout=TIMEOUT)
    try:
        gate = RedisSendGate(client, redis_prefix, 60.0, 60.0)
        group, key = "prefix:+7999555", f"{redis_prefix}conv:{{prefix:+7999555}}"
        old = {f"sent:{START - b}": 2 for b in range(70)}
        await client.hset(key, mapping={**old, f"verified:{START - 5}": 3, "mark:": "pinned"})
        check = Pumping(((group, 1),), 0.2, HOUR, enforce=False)

        first = await gate.acquire([], NOON, "t-1", check)
        second = await gate.acquire([], NOON, "t-2", check)
        later = await gate.acquire([], NOON + 600, "t-3", check)

        assert first.throttled == GroupFigures(0, 2 * 61, 3, 15, "pinned")  # 61 buckets
        assert second.throttled == GroupFigures(0, 2 * 61 + 1, 3, 15, "pinned")
        assert later.throttled == GroupFigures(0, 2 * 51 + 2, 3, 15, "pinned")
        totals = await client.hmget(key, ["total:from", "total:sent", "total:verified"])
        assert [int(value) for value in totals] == [START - 50, 2 * 51 + 3, 3]  # t-3 counted
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_a_group_total_that_drifted_is_right_again_within_resync_buckets(
    redis_server_url: str, redis_prefix: str
) -> None:
    """Totals a writer that does not keep them (the old code, during a rolling
    upgrade) put wrong are summed whole again every RESYNC buckets."""
    client = connect_redis(redis_server_url, timeout=TIMEOUT)
    try:
        gate = RedisSendGate(client, redis_prefix, 60.0, 60.0)
        log = RedisConversionLog(client, redis_prefix, 60.0)
        group, key = "prefix:+7999556", f"{redis_prefix}conv:{{prefix:+7999556}}"
        await log.mark(group, "pinned")
        check = Pumping(((group, 1),), 0.2, 2 * HOUR, enforce=False)
        for minute in range(120):
            await gate.acquire([], NOON - 2 * HOUR + 60 * minute, f"t-{minute}", check)
        await client.hincrby(key, "total:sent", 1000)  # drifted

        drifted = await gate.acquire([], NOON - 60, "t-a", check)  # the last one's minute
        assert drifted.throttled is not None
        assert drifted.throttled.sent == 1120  # trusted until the next resync
        summed = await log.counts([group], NOON - HOUR)  # the window 60 buckets on
        after = await gate.acquire([], NOON + RESYNC * 60, "t-b", check)
        assert after.throttled is not None
        assert after.throttled.sent == summed[0][0] == 61
    finally:
        await client.aclose()
