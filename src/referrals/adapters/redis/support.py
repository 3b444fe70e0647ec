"""What every Redis adapter shares: error translation, replies as text, cleanup TTLs."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager

from redis import exceptions

from referrals.application.errors import ServiceUnavailable

log = logging.getLogger(__name__)

UNAVAILABLE = (
    exceptions.ConnectionError,  # also AuthenticationError, "Too many connections"
    exceptions.TimeoutError,
    exceptions.BusyLoadingError,
    exceptions.ReadOnlyError,  # a replica that was promoted away from, mid-failover
    exceptions.ClusterDownError,  # a cluster with uncovered slots (a primary is down)
    exceptions.TryAgainError,  # a cluster resharding the slot just now
    exceptions.SlotNotCoveredError,  # the client found no node serving the slot
    OSError,  # includes the built-in TimeoutError
)

CLEANUP_MARGIN = 10.0
"""Seconds a key outlives its expiry: the app's clocks may run a little behind Redis's."""


@contextmanager
def translated_errors() -> Iterator[None]:
    """Raise :class:`ServiceUnavailable` instead of any error of the Redis driver.

    Outages become ``ServiceUnavailable`` quietly; any other driver error
    (out of memory, a script bug) is logged first, because the ports promise
    that no driver-specific error ever leaves an adapter.
    """
    try:
        yield
    except UNAVAILABLE as exc:
        raise ServiceUnavailable("Redis") from exc
    except (exceptions.RedisError, exceptions.RedisClusterException) as exc:
        log.exception("unexpected Redis error")
        raise ServiceUnavailable("Redis") from exc


def text(value: bytes | str) -> str:
    """A reply as ``str``, whether or not the client decodes responses."""
    return value.decode() if isinstance(value, bytes) else value


def cleanup_ms(seconds: float) -> int:
    """A key TTL in milliseconds for something that ends in ``seconds``.

    TTLs only clean up: liveness is decided by comparing stored expiry times
    with the caller's ``now``. The margin keeps a key until every app process
    agrees it is over, and the result is never under one second.
    """
    return max(1_000, math.ceil((seconds + CLEANUP_MARGIN) * 1_000))
