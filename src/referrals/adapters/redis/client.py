"""The Redis client every Redis adapter shares: one server or a Redis Cluster,
bounded waits, no retry storms."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

HEALTH_CHECK_INTERVAL = 30
"""Seconds a pooled connection may idle before it is pinged ahead of its next use."""
MAX_CONNECTIONS = 100
"""Commands in flight at once per process; more wait for a free connection."""
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
"""URL schemes that name a Redis Cluster, and the plain scheme of each node."""

RedisClient = redis.asyncio.Redis | RedisCluster
"""What the Redis adapters take: a client of one server or of a cluster."""


def reconnect_once() -> Retry:
    """Retry a command once, at once, on a fresh connection after a dropped one
    (Redis restarted, a proxy closed it); a timeout is not retried."""
    return Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,))


class WaitingRedisCluster(RedisCluster):
    """A :class:`RedisCluster` whose commands wait for a free connection.

    redis-py's async cluster client raises ``MaxConnectionsError`` at once
    when a node's pool is busy (redis/redis-py#3135, #2522), so a burst of
    requests would answer 503 while the cluster is healthy. Here at most
    ``max_connections`` commands are in flight at once (so never more on
    one node) and the rest wait, up to ``wait`` seconds, as with the
    single server's blocking pool; and the slot map is learnt (again, after
    a failover) before any command is routed. Pipelines go around both: the
    adapters send single commands and scripts to a cluster.
    """

    def __init__(self, *args: Any, wait: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight = asyncio.Semaphore(kwargs["max_connections"])
        self._wait = wait

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        try:
            await asyncio.wait_for(self._in_flight.acquire(), self._wait)
        except TimeoutError as exc:
            raise RedisConnectionError(f"no free Redis connection within {self._wait} s") from exc
        try:
            if self._initialize:
                # Learn the slot map once, before routing: commands routed while
                # another one is still learning it go to the wrong node, and the
                # MOVED replies that follow make the client reset every connection
                # under the other commands' feet (seen with 200 commands at once).
                await self.initialize()
            return await super().execute_command(*args, **kwargs)
        finally:
            self._in_flight.release()


def is_cluster_url(url: str) -> bool:
    """Whether ``url`` names a Redis Cluster (``redis+cluster://`` or ``rediss+cluster://``)."""
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def cluster_seeds(url: str) -> tuple[str, list[tuple[str, int]]]:
    """Split ``redis+cluster://[user:pass@]host:port[,host:port…][?…]`` into the
    plain URL of its first node and the ``(host, port)`` of every node named.

    Any one node is enough to discover the cluster; naming several lets a
    process start while one of them is down.
    """
    parts = urlsplit(url)
    credentials, _, hosts = parts.netloc.rpartition("@")
    seeds: list[tuple[str, int]] = []
    for seed in hosts.split(","):
        host, _, port = seed.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"expected host:port in {url!r}, not {seed!r}")
        seeds.append((host.strip("[]"), int(port)))
    first = f"{credentials}@{hosts.split(',')[0]}" if credentials else hosts.split(",")[0]
    plain = urlunsplit((CLUSTER_SCHEMES[parts.scheme], first, parts.path, parts.query, ""))
    return plain, seeds


def connect_redis(
    url: str,
    *,
    timeout: float,
    reply_timeout: float | None = None,
) -> RedisClient:
    """A client for ``url`` that fails fast while Redis is down and recovers by itself.

    * Connecting, each reply and waiting for a free pooled connection are
      each bounded by ``timeout`` seconds, so a dead or hung Redis costs a
      request about ``timeout`` before it becomes ``ServiceUnavailable``.
    * A dropped connection (Redis restarted, a proxy closed it) is retried
      once, at once, on a fresh connection; a timeout is not retried, so the
      bound above holds. Retrying can run a command twice, which every
      script of ours tolerates in the safe direction (a consume that already
      happened answers ``False``; an attempt or rate-limit event is counted
      twice, which only tightens a limit).
    * Nothing is started here: the first command connects, and after an
      outage the next command reconnects, so there is nothing to restart.

    ``redis+cluster://host:port[,host:port…]`` (``rediss+cluster://`` with
    TLS) gives a :class:`~redis.asyncio.cluster.RedisCluster`: it learns the
    slot map from the nodes named, follows ``MOVED`` redirections and
    refreshes the map after a failover. Commands beyond :data:`MAX_CONNECTIONS`
    at once wait for one to finish, as on one server (see
    :class:`WaitingRedisCluster`).

    ``reply_timeout`` bounds each reply instead of ``timeout`` (a queue's
    blocking reads wait longer than any other command should).

    Close the client with ``await client.aclose()``.
    """
    options = {
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout if reply_timeout is None else reply_timeout,
        "health_check_interval": HEALTH_CHECK_INTERVAL,
        "retry": reconnect_once(),
    }
    if is_cluster_url(url):
        plain, seeds = cluster_seeds(url)
        return WaitingRedisCluster.from_url(
            plain,
            startup_nodes=[ClusterNode(host, port) for host, port in seeds[1:]],
            max_connections=MAX_CONNECTIONS,
            wait=timeout,
            **options,
        )
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=timeout, **options
    )
    return redis.asyncio.Redis.from_pool(pool)
