"""What every Redis adapter shares: error translation, replies as text, cleanup TTLs."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from redis import exceptions
from redis.commands.core import AsyncScript

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

TOTALS_RESYNC = 60
"""Buckets between two reads of a whole hash by the scripts that keep running
totals (the pumping groups', the spend caps'), which set the totals right again."""


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


class ScriptCall(NamedTuple):
    """A script with its keys and arguments, to run now or in a pipeline."""

    script: AsyncScript
    keys: list[str]
    args: list[str | int]

    async def run(self) -> Any:
        with translated_errors():
            return await self.script(self.keys, self.args)


async def run_in_one_trip(client: Any, calls: Sequence[ScriptCall]) -> list[Any]:
    """Run ``calls`` in one pipeline (one round trip, in order; not a
    transaction): each one's reply, or its error as
    :class:`ServiceUnavailable`. A script the server does not know (it
    restarted) is loaded and run again on its own: refused unrun, it did
    nothing. The whole trip failing raises :class:`ServiceUnavailable`."""
    pipe = client.pipeline(transaction=False)
    for call in calls:
        pipe.evalsha(call.script.sha, len(call.keys), *call.keys, *call.args)
    with translated_errors():
        replies: list[Any] = await pipe.execute(raise_on_error=False)
    for i, (call, reply) in enumerate(zip(calls, replies, strict=True)):
        if isinstance(reply, exceptions.NoScriptError):
            try:
                replies[i] = await call.run()
            except ServiceUnavailable as exc:
                replies[i] = exc
        elif isinstance(reply, Exception):
            log.error("a pipelined Redis script failed: %s", reply)
            replies[i] = ServiceUnavailable("Redis")
    return replies
