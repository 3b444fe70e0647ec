"""Brokers: in-process for the embedded default, a Redis stream for workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage, AsyncBroker, InMemoryBroker
from taskiq_redis import RedisStreamBroker, RedisStreamClusterBroker

from referrals.adapters.redis.client import RedisClient, connect_redis, is_cluster_url

log = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
HEALTH_CHECK_INTERVAL = 30
"""Seconds a pooled connection may idle before it is pinged ahead of its next use."""
IDLE_CONSUMER_MS = 86_400_000
"""A consumer idle this long (ms) with nothing pending belonged to a worker long gone."""

# Acknowledge and delete in one step: one key, so it runs on Redis Cluster too.
_ACK = """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
"""


class _Reclaiming(AsyncBroker):
    """What both stream brokers below share: reading, reclaiming, acknowledging.

    See :class:`ReclaimingRedisStreamBroker` for the behaviour; subclasses
    say how to reach Redis (:meth:`_connection`).
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


class ReclaimingRedisStreamBroker(_Reclaiming, RedisStreamBroker):
    """A ``RedisStreamBroker`` whose redelivery promise does not wait for new traffic.

    taskiq-redis reclaims a dead worker's unacknowledged tasks only after a
    read returned new messages; on a quiet queue they would wait forever.
    Here every worker runs ``XAUTOCLAIM`` after each blocking read, whether
    or not it returned anything, at most once per ``xread_block``.

    The bound: a task whose worker died is started again by another live
    worker at most ``idle_timeout + xread_block`` milliseconds (plus a few
    Redis round trips) after the dead worker *read* it: the stream's idle
    clock starts at the read, not at the crash. With ``build_broker``'s
    names that is ``redelivery + poll`` seconds. It holds while some live
    worker has room for one more task (a worker whose every slot is busy
    neither reads nor claims). A worker started later takes such a task over
    within ``poll`` seconds of its start, once the idle time has passed. A
    task that failed and was left unacknowledged is retried the same way.

    Messages are read and claimed one at a time, only when the worker has
    room to run one, so no message waits inside a worker while its idle
    clock runs: a live worker starts every message it read at once, and
    finishes it (the task's ``timeout`` label) before anyone may reclaim it.
    Acknowledging also deletes the entry, so handled messages do not pile up.

    The consumer group starts at the stream's beginning (``consumer_id="0"``):
    tasks queued before any worker or API process created the group are
    delivered too, not skipped.
    """

    def _connection(self) -> contextlib.AbstractAsyncContextManager[RedisClient]:
        return Redis(connection_pool=self.connection_pool)

    async def _declare_consumer_group(self) -> None:
        await RedisStreamBroker._declare_consumer_group(self)


class ReclaimingRedisStreamClusterBroker(_Reclaiming, RedisStreamClusterBroker):
    """:class:`ReclaimingRedisStreamBroker` on Redis Cluster, with the same promises.

    The queue is one stream, one key, so every command and script of the
    broker touches one slot: it lives on one primary of the cluster (and
    its replicas), which is enough for an SMS queue; the cluster spreads
    the codes, sessions and limits. The client is ours (``connect_redis``):
    it waits for free connections and learns the slot map before routing.
    """

    def __init__(
        self,
        client: RedisClient,
        *,
        queue_name: str,
        consumer_group_name: str,
        consumer_id: str,
        idle_timeout: int,
        xread_block: int,
        xread_count: int,
        unacknowledged_batch_size: int,
    ) -> None:
        # Not RedisStreamClusterBroker.__init__: it would build a client of its
        # own from a URL; the attributes it sets are set here (see test_upstream).
        AsyncBroker.__init__(self)
        self.redis = client  # type: ignore[assignment]
        self.queue_name = queue_name
        self.consumer_group_name = consumer_group_name
        self.consumer_name = str(uuid.uuid4())
        self.consumer_id = consumer_id
        self.mkstream = True
        self.block = xread_block
        self.count = xread_count
        self.maxlen = None
        self.approximate = True
        self.additional_streams = {}
        self.idle_timeout = idle_timeout
        self.unacknowledged_batch_size = unacknowledged_batch_size

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[RedisClient]:
        # One shared client: `async with` on it would close it on the way out.
        yield self.redis

    async def _declare_consumer_group(self) -> None:
        try:
            await self.redis.xgroup_create(
                self.queue_name, self.consumer_group_name, id=self.consumer_id, mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


def build_broker(
    url: str | None,
    *,
    queue: str = "referrals:tasks",
    redelivery: float = 30.0,
    poll: float = 2.0,
    connect_timeout: float = 3.0,
) -> AsyncBroker:
    """The in-process broker when ``url`` is ``None``, else a Redis stream one
    (on Redis Cluster for a ``redis+cluster://`` URL).

    ``redelivery``: seconds a task may stay unacknowledged before another
    worker takes it over. ``poll``: seconds one blocking read waits.
    ``queue``: the stream's key.

    A task whose worker crashed (or that failed and was left unacknowledged
    for a retry) is started again by a live worker at most
    ``redelivery + poll`` seconds after the crashed worker read it; the SMS
    goes out one gateway delay later. With the defaults: 32 s. A task must
    therefore finish well within ``redelivery`` (its ``timeout`` label, see
    :class:`~referrals.adapters.taskiq.tasks.TaskiqCodeSender`), or a second
    worker would start it while the first still runs.
    """
    if url is None:
        return InMemoryBroker()
    options: dict[str, Any] = {
        "queue_name": queue,
        "consumer_group_name": "referrals",
        "consumer_id": "0",
        "idle_timeout": int(redelivery * 1000),
        "xread_block": int(poll * 1000),
        # One message per read and per claim: see ReclaimingRedisStreamBroker.
        "xread_count": 1,
        "unacknowledged_batch_size": 1,
    }
    # redis-py 8 defaults to a 5 s socket timeout: a blocking read longer
    # than that would fail and restart the worker. Keep it above the block.
    socket_timeout = poll + connect_timeout
    if is_cluster_url(url):
        client = connect_redis(url, timeout=connect_timeout, reply_timeout=socket_timeout)
        return ReclaimingRedisStreamClusterBroker(client, **options)
    return ReclaimingRedisStreamBroker(
        url,
        **options,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        health_check_interval=HEALTH_CHECK_INTERVAL,
        # A connection dropped by a Redis restart is retried once on a fresh one.
        retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
    )
