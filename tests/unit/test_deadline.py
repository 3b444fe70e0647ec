"""The client-side deadline that bounds every PostgreSQL round trip."""

from __future__ import annotations

import asyncio
import time

import pytest

from referrals.adapters.sql.deadline import deadline


def pending_cancellations() -> int:
    task = asyncio.current_task()
    assert task is not None
    return task.cancelling()


async def test_deadline_lets_a_quick_block_through() -> None:
    async with deadline(1.0):
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)  # no cancellation left pending
    assert pending_cancellations() == 0


async def test_deadline_ends_a_silent_wait_with_timeout_error() -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with deadline(0.1):
            await asyncio.Event().wait()
    assert time.monotonic() - started < 1
    await asyncio.sleep(0.01)
    assert pending_cancellations() == 0


async def test_deadline_cancels_again_a_block_that_waits_after_the_first_cancellation() -> None:
    """What psycopg does: on cancellation it waits for the server once more."""

    async def stubborn() -> None:
        async with deadline(0.1, grace=0.1):
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                await asyncio.Event().wait()  # cleanup that never ends by itself

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await stubborn()
    assert time.monotonic() - started < 1
    await asyncio.sleep(0.01)
    assert pending_cancellations() == 0


async def test_deadline_passes_an_outside_cancellation_on() -> None:
    async def guarded() -> None:
        async with deadline(10.0):
            await asyncio.Event().wait()

    task = asyncio.create_task(guarded())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
