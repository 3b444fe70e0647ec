"""What the Redis stream brokers share: reading, reclaiming and acknowledging
tasks, over one Redis server or a Redis Cluster (see ``broker.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage, AsyncBroker

from referrals.adapters.redis.client import RedisClient

log = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
IDLE_CONSUMER_MS = 86_400_000
"""A consumer idle this long (ms) with nothing pending belonged to a worker long gone."""

OVERDUE_COUNT_CAP = 10_000
"""At most this many overdue entries are counted at one scrape."""


@dataclass(frozen=True, slots=True)
class QueueStats:
    """The task stream right now."""

    waiting: int
    """Queued and not yet read by any worker."""
    pending: int
    """Read by a worker and not acknowledged: running, or failed and waiting for redelivery."""
    overdue: int
    """Of the pending, those idle past the redelivery time: due to be handed out again
    (their worker died, or their delivery failed)."""


# Acknowledge and delete in one step: one key, so it runs on Redis Cluster too.
_ACK = """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
"""


class ReclaimingStreams(AsyncBroker):
    """The reading, reclaiming and acknowledging of the stream brokers in ``broker.py``.

    See :class:`~referrals.adapters.taskiq.broker.ReclaimingRedisStreamBroker`
    for the behaviour; subclasses say how to reach Redis (:meth:`_connection`).
    """

    queue_name: str
    consumer_group_name: str
    consumer_name: str
    block: int
    count: int | None
    idle_timeout: int
    unacknowledged_batch_size: int

    def _connection(self) -> contextlib.AbstractAsyncContextManager[RedisClient]:
        raise NotImplementedError

    async def _declare_consumer_group(self) -> None:
        raise NotImplementedError

    idle_consumer_ms = IDLE_CONSUMER_MS

    async def ping(self) -> None:
        """One round trip to the queue's Redis (readiness); raises if it is away."""
        async with self._connection() as conn:
            await conn.ping()

    async def queue_stats(self) -> QueueStats:
        """The queue's backlog, from the stream itself (for metrics at scrape time)."""
        async with self._connection() as conn:
            length: Any = await conn.xlen(self.queue_name)
            pending = 0
            with contextlib.suppress(ResponseError):  # no stream or group yet
                summary: Any = await conn.xpending(self.queue_name, self.consumer_group_name)
                pending = int(summary["pending"])
            overdue: Any = []
            if pending:
                overdue = await conn.xpending_range(
                    self.queue_name,
                    self.consumer_group_name,
                    min="-",
                    max="+",
                    count=OVERDUE_COUNT_CAP,
                    idle=self.idle_timeout,
                )
        # Acknowledged entries are deleted, so the stream holds exactly the
        # waiting entries and the pending ones.
        return QueueStats(
            waiting=max(0, int(length) - pending), pending=pending, overdue=len(overdue)
        )

    async def startup(self) -> None:
        """Workers make sure the consumer group exists; API processes only send,
        so they start (and answer 503) even while the queue's Redis is down."""
        await AsyncBroker.startup(self)  # the start-up events, without the group
        if self.is_worker_process:
            with contextlib.suppress(*UNREACHABLE):  # listen() retries until it works
                await self._declare_consumer_group()
                await self._forget_idle_consumers()

    async def _forget_idle_consumers(self) -> None:
        """Remove consumers (one per worker process ever started) that hold no
        task and were idle for a day: safe, since nothing is pending on them."""
        async with self._connection() as conn:
            with contextlib.suppress(ResponseError):  # no stream yet
                consumers: Any = await conn.xinfo_consumers(
                    self.queue_name, self.consumer_group_name
                )
                for consumer in consumers:
                    if consumer["pending"] == 0 and consumer["idle"] > self.idle_consumer_ms:
                        await conn.xgroup_delconsumer(
                            self.queue_name, self.consumer_group_name, consumer["name"]
                        )

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """Read and reclaim forever, riding out outages of the queue's Redis.

        While Redis is unreachable the worker logs one line and tries again
        every ``xread_block``; if Redis came back empty (the group is gone),
        the group is created again. No worker restart is needed either way.
        """
        while True:
            try:
                async for message in self._listen_until_error():
                    yield message
            except UNREACHABLE as exc:
                log.warning("the task queue's Redis is unreachable (%s); retrying", exc)
                await asyncio.sleep(self.block / 1000)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                log.warning("the task queue's consumer group is gone; creating it again")
                with contextlib.suppress(*UNREACHABLE):
                    await self._declare_consumer_group()

    async def _listen_until_error(self) -> AsyncGenerator[AckableMessage, None]:
        async with self._connection() as conn:
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
                async for message in self._reclaim(conn):
                    yield message

    async def _reclaim(self, conn: RedisClient) -> AsyncGenerator[AckableMessage, None]:
        """Take over every message idle for ``idle_timeout``, one at a time."""
        cursor: Any = "0-0"
        while True:
            reply: Any = await conn.xautoclaim(
                self.queue_name,
                self.consumer_group_name,
                self.consumer_name,
                min_idle_time=self.idle_timeout,
                start_id=cursor,
                count=self.unacknowledged_batch_size,
            )
            cursor = reply[0]
            for message_id, fields in reply[1]:
                if fields:  # None when the entry was deleted meanwhile (Redis 6.2)
                    yield self._message(self.queue_name, message_id, fields)
            if cursor in ("0-0", b"0-0"):
                return

    def _message(self, stream: Any, message_id: Any, fields: dict[bytes, bytes]) -> AckableMessage:
        return AckableMessage(data=fields[b"data"], ack=self._acker(stream, message_id))

    def _acker(self, stream: Any, message_id: Any) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            async with self._connection() as conn:
                await conn.eval(_ACK, 1, stream, self.consumer_group_name, message_id)

        return ack
