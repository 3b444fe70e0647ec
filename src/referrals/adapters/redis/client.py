"""The Redis client every Redis adapter shares: bounded waits, no retry storms."""

from __future__ import annotations

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

HEALTH_CHECK_INTERVAL = 30
"""Seconds a pooled connection may idle before it is pinged ahead of its next use."""


def connect_redis(
    url: str, *, timeout: float = 3.0, max_connections: int = 100
) -> redis.asyncio.Redis:
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

    Close the client with ``await client.aclose()``.
    """
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        health_check_interval=HEALTH_CHECK_INTERVAL,
        retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
    )
    return redis.asyncio.Redis.from_pool(pool)
