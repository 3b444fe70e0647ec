"""The stream broker on the real Redis: a tidy consumer group, one client for queueing."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio
from taskiq import BrokerMessage

from referrals.adapters.taskiq import ReclaimingRedisStreamBroker, build_broker
from tests.defaults import BROKER

pytestmark = pytest.mark.redis


async def test_a_worker_forgets_idle_consumers_with_nothing_pending(
    redis_server_url: str, redis_prefix: str, redis_client: redis.asyncio.Redis
) -> None:
    broker = build_broker(redis_server_url, **(BROKER | {"queue": f"{redis_prefix}tasks"}))
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


async def test_queueing_tasks_builds_no_redis_client_per_message(
    redis_server_url: str,
    redis_prefix: str,
    redis_client: redis.asyncio.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broker = build_broker(redis_server_url, **(BROKER | {"queue": f"{redis_prefix}tasks"}))
    assert isinstance(broker, ReclaimingRedisStreamBroker)
    built = 0
    init = redis.asyncio.Redis.__init__

    def counted(self: redis.asyncio.Redis, *args: Any, **kwargs: Any) -> None:
        nonlocal built
        built += 1
        init(self, *args, **kwargs)

    await broker.startup()
    try:
        monkeypatch.setattr(redis.asyncio.Redis, "__init__", counted)
        for n in range(3):
            await broker.kick(
                BrokerMessage(task_id=str(n), task_name="t", message=b"{}", labels={})
            )
        monkeypatch.undo()
    finally:
        await broker.shutdown()
    assert await redis_client.xlen(broker.queue_name) == 3
    assert built <= 1  # one client for the broker's life, however many messages
