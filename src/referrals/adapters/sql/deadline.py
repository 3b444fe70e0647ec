"""A client-side time limit for database round trips that psycopg can honour."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

CANCEL_GRACE = 0.5
"""Seconds between the cancellations of a round trip that overran its deadline."""


@asynccontextmanager
async def deadline(seconds: float, *, grace: float = CANCEL_GRACE) -> AsyncIterator[None]:
    """Raise the built-in :class:`TimeoutError` (an ``OSError``, so
    :func:`translated_errors` makes it ``ServiceUnavailable``) if the block
    runs longer than ``seconds``.

    Unlike :func:`asyncio.timeout`, the block is cancelled again every
    ``grace`` seconds until it ends. psycopg answers a cancelled query by
    asking the server to cancel it and waiting for that, up to 10 s more;
    against a server that accepts connections but never answers (frozen, or
    behind a network that drops packets) that is 10 s lost. A second
    cancellation makes psycopg close the connection at once instead, which
    is what psycopg itself does on a second Ctrl-C. The pool then drops the
    connection. A server that does answer finishes the cancellation within
    the grace, so its connection is kept.
    """
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("deadline() needs a running task")
    loop = asyncio.get_running_loop()
    fired = 0
    timers: list[asyncio.TimerHandle] = []

    def cancel() -> None:
        nonlocal fired
        fired += 1
        task.cancel()
        timers.append(loop.call_later(grace, cancel))

    timers.append(loop.call_later(seconds, cancel))
    try:
        yield
    except asyncio.CancelledError as exc:
        for timer in timers:
            timer.cancel()
        ours, fired = fired, 0
        remaining = task.cancelling()
        for _ in range(ours):
            remaining = task.uncancel()
        if ours and remaining == 0:
            raise TimeoutError(f"no answer from the database within {seconds:g} s") from exc
        raise
    finally:
        for timer in timers:
            timer.cancel()
        for _ in range(fired):  # ours, though an inner layer turned it into something else
            task.uncancel()
