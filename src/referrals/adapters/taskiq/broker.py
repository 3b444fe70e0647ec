"""Brokers: in-process for the embedded default, a Redis stream for workers."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from taskiq import AsyncBroker, BrokerMessage, InMemoryBroker
from taskiq_redis import RedisStreamBroker, RedisStreamClusterBroker

from referrals.adapters.redis.client import (
    HEALTH_CHECK_INTERVAL,
    RedisClient,
    connect_redis,
    is_cluster_url,
    reconnect_once,
)
from referrals.adapters.taskiq.streams import ReclaimingStreams

POLL = 2.0
"""Seconds one blocking read of the stream waits (not a setting: it only
bounds how late a crashed worker's task is taken over, see :func:`build_broker`)."""


class ReclaimingRedisStreamBroker(ReclaimingStreams, RedisStreamBroker):
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

    _sender: Redis | None = None

    def _connection(self) -> contextlib.AbstractAsyncContextManager[RedisClient]:
        return Redis(connection_pool=self.connection_pool)

    async def kick(self, message: BrokerMessage) -> None:
        """Queue ``message`` (``XADD``) as taskiq-redis does, through one client
        kept for the broker's life: building a ``Redis`` per message (its table
        of response callbacks) was a twentieth of a login's CPU."""
        if self._sender is None:
            self._sender = Redis(connection_pool=self.connection_pool)
        await self._sender.xadd(
            message.labels.get("queue_name") or self.queue_name,
            {b"data": message.message},
            maxlen=self.maxlen,
            approximate=self.approximate,
        )

    async def _declare_consumer_group(self) -> None:
        await RedisStreamBroker._declare_consumer_group(self)


class ReclaimingRedisStreamClusterBroker(ReclaimingStreams, RedisStreamClusterBroker):
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
    queue: str,
    redelivery: float,
    connect_timeout: float,
    poll: float = POLL,
) -> AsyncBroker:
    """The in-process broker when ``url`` is ``None``, else a Redis stream one
    (on Redis Cluster for a ``redis+cluster://`` URL).

    ``redelivery``: seconds a task may stay unacknowledged before another
    worker takes it over. ``poll``: seconds one blocking read waits.
    ``queue``: the stream's key.

    A task whose worker crashed (or that failed and was left unacknowledged
    for a retry) is started again by a live worker at most
    ``redelivery + poll`` seconds after the crashed worker read it; the SMS
    goes out one gateway delay later (32 s with the settings' defaults). A task must
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
        retry=reconnect_once(),
    )
