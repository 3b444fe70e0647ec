"""Brokers: in-process for the embedded default, a Redis stream for workers."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from taskiq import AckableMessage, AsyncBroker, InMemoryBroker
from taskiq_redis import RedisStreamBroker



class ReclaimingRedisStreamBroker(RedisStreamBroker):
    """A ``RedisStreamBroker`` whose promise does not wait for new traffic.

    taskiq-redis reclaims a dead worker's unacknowledged tasks only after a
    read returned new messages; on a quiet queue they would wait forever.
    Here every worker runs ``XAUTOCLAIM`` after each blocking read, whether
    or not it returned anything, so a task whose worker died is taken over
    within ``idle_timeout`` + ``xread_block`` milliseconds. Acknowledging
    also deletes the entry, so handled messages do not pile up in Redis.
    """

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        async with Redis(connection_pool=self.connection_pool) as conn:
            next_claim = 0.0
            while True:
                fetched: Any = await conn.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {self.queue_name: ">"},
                    block=self.block,
                    count=self.count,
                )
                for stream, messages in fetched or []:
                    for message_id, fields in messages:
                        yield self._message(stream, message_id, fields)
                if time.monotonic() < next_claim:
                    continue
                next_claim = time.monotonic() + self.block / 1000
                claimed: Any = await conn.xautoclaim(
                    self.queue_name,
                    self.consumer_group_name,
                    self.consumer_name,
                    min_idle_time=self.idle_timeout,
                    count=self.unacknowledged_batch_size,
                )
                for message_id, fields in claimed[1]:
                    if fields:  # None when the entry was deleted meanwhile
                        yield self._message(self.queue_name, message_id, fields)

    def _message(self, stream: Any, message_id: Any, fields: dict[bytes, bytes]) -> AckableMessage:
        return AckableMessage(data=fields[b"data"], ack=self._acker(stream, message_id))

    def _acker(self, stream: Any, message_id: Any) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            async with Redis(connection_pool=self.connection_pool) as conn:
                pipe = conn.pipeline(transaction=True)
                pipe.xack(stream, self.consumer_group_name, message_id)
                pipe.xdel(stream, message_id)
                await pipe.execute()

        return ack


def build_broker(
    url: str | None,
    *,
    queue: str = "referrals:tasks",
    redelivery: float = 30.0,
    poll: float = 2.0,
    connect_timeout: float = 3.0,
) -> AsyncBroker:
    """The in-process broker when ``url`` is ``None``, else a Redis stream one.

    ``redelivery``: seconds a task may stay unacknowledged before another
    worker takes it over (a crashed worker's task is re-run after at most
    ``redelivery + poll`` seconds). ``poll``: seconds one blocking read waits; ``queue``: the stream's key.
    """
    if url is None:
        return InMemoryBroker()
    return ReclaimingRedisStreamBroker(
        url,
        queue_name=queue,
        consumer_group_name="referrals",
        idle_timeout=int(redelivery * 1000),
        xread_block=int(poll * 1000),
        xread_count=10,
        # redis-py 8 defaults to a 5 s socket timeout, shorter than nothing
        # we choose here but a trap if poll grows: keep it above the block.
        socket_timeout=poll + connect_timeout,
        socket_connect_timeout=connect_timeout,
    )
