"""Sessions cached in process memory stay true: Redis' invalidation messages
drop what another process changed, and a broken tracking connection empties
the cache until tracking is back (adapters/redis/session_cache.py).

Each "process" here is a store on a client of its own, sharing one key prefix.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
import redis.asyncio
from redis.asyncio.cluster import RedisCluster

from referrals.adapters.redis import connect_redis
from referrals.adapters.redis.session_cache import CachedRedisSessionStore
from tests.defaults import TIMEOUT

NOW = 1_000_000.0
LATER = NOW + 3_600


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("redis-cluster", marks=pytest.mark.redis_cluster),
    ]
)
async def redis_url(request: pytest.FixtureRequest) -> str:
    fixture = "redis_cluster_url" if request.param == "redis-cluster" else "redis_server_url"
    url: str = request.getfixturevalue(fixture)
    return url


Make = Callable[..., Awaitable[CachedRedisSessionStore]]


@pytest.fixture
async def make_store(redis_url: str) -> AsyncIterator[Make]:
    prefix = f"referrals-test:{secrets.token_hex(6)}:"
    async with AsyncExitStack() as stack:

        async def make(capacity: int = 1_000) -> CachedRedisSessionStore:
            client = connect_redis(redis_url, timeout=TIMEOUT)
            stack.push_async_callback(client.aclose)
            store = CachedRedisSessionStore(client, prefix, capacity=capacity, timeout=TIMEOUT)
            stack.push_async_callback(store.aclose)
            await store.start()
            assert await store.wait_live(5)
            return store

        yield make


async def eventually(check: Callable[[], Awaitable[bool] | bool], within: float = 3.0) -> None:
    async with asyncio.timeout(within):
        while True:
            outcome = check()
            if outcome if isinstance(outcome, bool) else await outcome:
                return
            await asyncio.sleep(0.005)


def counting_reads(store: CachedRedisSessionStore) -> list[str]:
    """Record every read that goes to Redis."""
    reads: list[str] = []
    entry = store._entry

    async def counted(session_id: str) -> Any:
        reads.append(session_id)
        return await entry(session_id)

    store._entry = counted  # type: ignore[method-assign]
    return reads


async def test_a_read_session_is_served_from_memory(make_store: Make) -> None:
    store = await make_store()
    await store.create("s1", 7, LATER, NOW)
    reads = counting_reads(store)

    assert [await store.get("s1", NOW) for _ in range(5)] == [7] * 5
    assert reads == ["s1"]
    assert await store.get("s1", LATER) is None  # expiry is still the caller's now


async def test_a_logout_in_another_process_stops_the_session_here(make_store: Make) -> None:
    here, there = await make_store(), await make_store()
    await there.create("s1", 7, LATER, NOW)
    assert await here.get("s1", NOW) == 7
    assert len(here) == 1

    await there.revoke("s1")

    await eventually(lambda: len(here) == 0)
    assert await here.get("s1", NOW) is None


async def test_revoking_all_of_a_users_sessions_elsewhere_stops_them_here(
    make_store: Make,
) -> None:
    here, there = await make_store(), await make_store()
    for session in ("a", "b"):
        await there.create(session, 7, LATER, NOW)
        assert await here.get(session, NOW) == 7

    assert await there.revoke_user(7, NOW) == 2

    await eventually(lambda: len(here) == 0)
    assert [await here.get(s, NOW) for s in ("a", "b")] == [None, None]


async def test_a_read_that_raced_a_change_is_not_cached(make_store: Make) -> None:
    here, there = await make_store(), await make_store()
    await there.create("s1", 7, LATER, NOW)
    entry = here._entry

    async def read_then_revoked_elsewhere(session_id: str) -> Any:
        found = await entry(session_id)  # the value as it was…
        await there.revoke(session_id)  # …changed before this read is done
        await eventually(lambda: session_id not in here._tickets)
        return found

    here._entry = read_then_revoked_elsewhere  # type: ignore[method-assign]
    assert await here.get("s1", NOW) == 7  # what Redis said at the time
    here._entry = entry  # type: ignore[method-assign]

    assert len(here) == 0
    assert await here.get("s1", NOW) is None


async def test_a_broken_tracking_connection_empties_the_cache_until_it_is_back(
    make_store: Make, redis_url: str
) -> None:
    here, there = await make_store(), await make_store()
    await there.create("s1", 7, LATER, NOW)
    assert await here.get("s1", NOW) == 7
    nodes = await _nodes(redis_url)
    for tracking_id in here.tracking_ids:  # each id is one node's: the others answer 0
        for node in nodes:
            await node.execute_command("CLIENT", "KILL", "ID", tracking_id)
    await asyncio.gather(*(node.aclose() for node in nodes))
    await eventually(lambda: not here.live)
    assert len(here) == 0
    await there.revoke("s1")  # no invalidation can reach `here` now
    assert await here.get("s1", NOW) is None  # read from Redis

    assert await here.wait_live(5)  # tracking comes back by itself
    await there.create("s2", 8, LATER, NOW)
    assert await here.get("s2", NOW) == 8
    await there.revoke("s2")
    await eventually(lambda: len(here) == 0)


async def _nodes(redis_url: str) -> list[redis.asyncio.Redis]:
    """A plain client of every primary (one, unless ``redis_url`` is a cluster)."""
    client = connect_redis(redis_url, timeout=TIMEOUT)
    try:
        if isinstance(client, RedisCluster):
            await client.initialize()
            return [redis.asyncio.Redis(host=n.host, port=n.port) for n in client.get_primaries()]
        return [redis.asyncio.Redis.from_url(redis_url)]
    finally:
        await client.aclose()


async def test_the_cache_keeps_at_most_its_capacity(make_store: Make) -> None:
    store = await make_store(capacity=3)
    for n in range(5):
        await store.create(f"s{n}", n, LATER, NOW)
        assert await store.get(f"s{n}", NOW) == n

    assert len(store) == 3
    reads = counting_reads(store)
    assert await store.get("s4", NOW) == 4  # the most recent stayed
    assert await store.get("s0", NOW) == 0  # the least recent went
    assert reads == ["s0"]


async def test_a_flush_of_the_server_empties_the_cache(make_store: Make) -> None:
    store = await make_store()
    await store.create("s1", 7, LATER, NOW)
    assert await store.get("s1", NOW) == 7

    # What Redis sends on FLUSHALL or when its tracking table overflows
    # (not sent for real: the server is shared with other tests).
    store._invalidated([b"message", b"__redis__:invalidate", None])

    assert len(store) == 0
