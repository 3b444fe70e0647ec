"""The stream broker keeps its consumer group tidy on the real Redis."""

from __future__ import annotations

import pytest
import redis.asyncio

from referrals.adapters.taskiq import ReclaimingRedisStreamBroker, build_broker

pytestmark = pytest.mark.redis


async def test_a_worker_forgets_idle_consumers_with_nothing_pending(
    redis_server_url: str, redis_prefix: str, redis_client: redis.asyncio.Redis
) -> None:
    broker = build_broker(redis_server_url, queue=f"{redis_prefix}tasks")
    assert isinstance(broker, ReclaimingRedisStreamBroker)
    stream, group = broker.queue_name, broker.consumer_group_name
    await redis_client.xgroup_create(stream, group, id="0", mkstream=True)
    for consumer in ("gone-idle", "gone-busy"):
        await redis_client.xadd(stream, {b"data": b"{}"})
        [[_, [(message_id, _)]]] = await redis_client.xreadgroup(
            group, consumer, {stream: ">"}, count=1
        )
        if consumer == "gone-idle":
            await redis_client.xack(stream, group, message_id)
    broker.is_worker_process = True
    broker.idle_consumer_ms = -1  # anything idle at all counts as long gone
    try:
        await broker.startup()
        names = {c["name"] for c in await redis_client.xinfo_consumers(stream, group)}
    finally:
        await broker.shutdown()
    assert names == {b"gone-busy"}  # its pending task must still be reclaimable
