"""Concurrent bursts against every limit (``tests/bursts.py``) with the limiter
and the challenge store on a real Redis server and on a three-primary Redis
Cluster: the exact bounds hold across the network, and on the cluster, where
each quota is decided by a script of its own."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from referrals.adapters.memory import (
    InMemoryDeliveryLedger,
    InMemorySessionStore,
    InMemoryUsers,
    RecordingCodeSender,
    RecordingSmsGateway,
)
from referrals.adapters.redis import RedisChallengeStore, RedisRateLimiter, connect_redis
from referrals.application.policy import Policy
from referrals.testing import FakeClock
from tests import bursts
from tests.defaults import TIMEOUT
from tests.unit.conftest import World


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("redis-cluster", marks=pytest.mark.redis_cluster),
    ]
)
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    if request.param == "redis":
        url = request.getfixturevalue("redis_server_url")
        prefix = request.getfixturevalue("redis_prefix")
    else:
        url = request.getfixturevalue("redis_cluster_url")
        prefix = f"referrals-test:{secrets.token_hex(6)}:"
    client = connect_redis(url, timeout=TIMEOUT)
    try:
        yield World(
            policy=Policy(),
            clock=FakeClock(),
            challenges=RedisChallengeStore(client, prefix),
            limiter=RedisRateLimiter(client, prefix),
            sessions=InMemorySessionStore(),
            users=InMemoryUsers(),
            sender=RecordingCodeSender(),
            gateway=RecordingSmsGateway(),
            ledger=InMemoryDeliveryLedger(),
        )
    finally:
        await client.aclose()


@pytest.mark.parametrize("scenario", bursts.SCENARIOS, ids=lambda s: s.__name__)
async def test_bursts_never_pass_more_than_the_limit(
    world: World, scenario: Callable[[World], Awaitable[None]]
) -> None:
    await scenario(world)
