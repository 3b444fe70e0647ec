"""Concurrent bursts against every limit, on the in-memory adapters.

In-memory adapters never wait, so on their own they would run each request
to the end before the next starts and hide every race. Here the limiter
and the challenge store yield to the event loop before each call, as a
network store would, so the requests of a burst interleave the way they do
against Redis: a check-then-record limiter lets most of the burst through
(the issue saw 12 to 14 wrong codes checked of 10, 29 unknown invite codes of 10).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from referrals.adapters.memory import InMemoryChallengeStore, InMemoryRateLimiter
from tests import bursts
from tests.unit.conftest import World


class Interleaved:
    """Any adapter, with a turn of the event loop before each of its calls."""

    def __init__(self, adapter: Any) -> None:
        self._adapter = adapter

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._adapter, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(0)
            return await method(*args, **kwargs)

        return call


@pytest.fixture
def interleaved(world: World) -> World:
    return dataclasses.replace(
        world,
        challenges=Interleaved(InMemoryChallengeStore()),
        limiter=Interleaved(InMemoryRateLimiter()),
    )


@pytest.mark.parametrize("scenario", bursts.SCENARIOS, ids=lambda s: s.__name__)
async def test_bursts_never_pass_more_than_the_limit(
    interleaved: World, scenario: Callable[[World], Awaitable[None]]
) -> None:
    await scenario(interleaved)
