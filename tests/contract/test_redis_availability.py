"""Redis adapters when Redis is down, stuck or back: fail fast, then recover alone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import pytest
import redis.asyncio

from referrals.adapters.redis import (
    RedisChallengeStore,
    RedisDeliveryLedger,
    RedisRateLimiter,
    RedisSessionStore,
    connect_redis,
)
from referrals.application.errors import ServiceUnavailable
from referrals.application.ports import Limit, Quota, Rule
from referrals.domain.challenge import Challenge
from referrals.domain.phone import Phone
from tests.contract.redis_proxy import RedisProxy
from tests.defaults import TIMEOUT

NOW = 1_800_000_000.0
PREFIX = "referrals-test:down:"
CHALLENGE = Challenge("a" * 32 + "." + "c" * 64, Phone("+79991234567"), "d" * 64, NOW + 300, 5)
QUOTA = Quota("ip:127.0.0.1", (Rule("ip_send", Limit(10, 60)),))

Call = Callable[[redis.asyncio.Redis], Awaitable[object]]
EVERY_PORT_METHOD: dict[str, Call] = {
    "challenges.put": lambda c: RedisChallengeStore(c, PREFIX).put(CHALLENGE, NOW),
    "challenges.get": lambda c: RedisChallengeStore(c, PREFIX).get(CHALLENGE.id, NOW),
    "challenges.attempt": lambda c: RedisChallengeStore(c, PREFIX).attempt("x", "d", NOW),
    "challenges.consume": lambda c: RedisChallengeStore(c, PREFIX).consume("x", NOW),
    "challenges.discard": lambda c: RedisChallengeStore(c, PREFIX).discard("x"),
    "sessions.create": lambda c: RedisSessionStore(c, PREFIX).create("s", 1, NOW + 9, NOW),
    "sessions.get": lambda c: RedisSessionStore(c, PREFIX).get("s", NOW),
    "sessions.revoke": lambda c: RedisSessionStore(c, PREFIX).revoke("s"),
    "limiter.acquire": lambda c: RedisRateLimiter(c, PREFIX).acquire([QUOTA], NOW),
    "limiter.refund": lambda c: RedisRateLimiter(c, PREFIX).refund([QUOTA], "t"),
    "limiter.reset": lambda c: RedisRateLimiter(c, PREFIX).reset([QUOTA.key]),
    "ledger.claim": lambda c: RedisDeliveryLedger(c, PREFIX).claim("x", "w", 30, NOW),
    "ledger.mark_sent": lambda c: RedisDeliveryLedger(c, PREFIX).mark_sent("x", NOW + 9, NOW),
    "ledger.release": lambda c: RedisDeliveryLedger(c, PREFIX).release("x", "w"),
}


@pytest.fixture
async def closed_port_client() -> AsyncIterator[redis.asyncio.Redis]:
    client = connect_redis("redis://127.0.0.1:1/0", timeout=TIMEOUT)
    yield client
    await client.aclose()


@pytest.fixture
async def proxy(redis_server_url: str) -> AsyncIterator[RedisProxy]:
    target = urlsplit(redis_server_url)
    proxy = RedisProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.start()
    yield proxy
    await proxy.stop()


async def unavailable_within(seconds: float, call: Awaitable[object]) -> None:
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        await call
    assert time.monotonic() - started < seconds


@pytest.mark.parametrize("call", EVERY_PORT_METHOD.values(), ids=EVERY_PORT_METHOD.keys())
async def test_every_redis_adapter_method_fails_fast_as_unavailable_when_redis_is_down(
    closed_port_client: redis.asyncio.Redis, call: Call
) -> None:
    await unavailable_within(2.0, call(closed_port_client))


async def test_a_stuck_redis_is_unavailable_after_about_the_timeout() -> None:
    stuck = RedisProxy("127.0.0.1", 1, hang=True)
    await stuck.start()
    client = connect_redis(stuck.url, timeout=0.5)
    try:
        await unavailable_within(1.5, RedisSessionStore(client, PREFIX).get("s", NOW))
    finally:
        await client.aclose()
        await stuck.stop()


@pytest.mark.redis
async def test_the_client_recovers_by_itself_when_redis_comes_back(
    proxy: RedisProxy, redis_prefix: str
) -> None:
    client = connect_redis(proxy.url, timeout=TIMEOUT)
    sessions = RedisSessionStore(client, redis_prefix)
    try:
        await sessions.create("s", 7, NOW + 60, NOW)
        await proxy.stop()
        await unavailable_within(2.0, sessions.get("s", NOW))
        await proxy.start()
        assert await sessions.get("s", NOW) == 7
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_the_first_command_after_a_quiet_redis_restart_succeeds(
    proxy: RedisProxy, redis_prefix: str
) -> None:
    client = connect_redis(proxy.url, timeout=TIMEOUT)
    sessions = RedisSessionStore(client, redis_prefix)
    try:
        await sessions.create("s", 7, NOW + 60, NOW)
        await proxy.stop()  # every pooled connection is cut while nobody is using it
        await proxy.start()
        assert await sessions.get("s", NOW) == 7
    finally:
        await client.aclose()


@pytest.mark.slow
@pytest.mark.redis_cluster
async def test_a_cluster_whose_primary_is_down_is_unavailable_fast_and_recovers_by_itself() -> None:
    from tests.servers import redis_cluster

    with redis_cluster() as cluster:
        client = connect_redis(cluster.url, timeout=1.0)
        sessions = RedisSessionStore(client, PREFIX)
        try:
            ids = [f"s{n}" for n in range(30)]
            for session_id in ids:
                await sessions.create(session_id, 7, NOW + 60, NOW)
            down = cluster.nodes[1]
            on_down = next(i for i in ids if _port_of(client, f"{PREFIX}session:{i}") == down.port)
            down.stop()
            await unavailable_within(2.5, sessions.get(on_down, NOW))
            down.start()  # empty, but with its slots: it rejoins by itself
            deadline = time.monotonic() + 20
            while True:
                try:
                    assert await sessions.get(on_down, NOW) is None  # its data died with it
                    assert await sessions.get(next(i for i in ids if i != on_down), NOW) in {
                        7,
                        None,
                    }
                    break
                except ServiceUnavailable:
                    assert time.monotonic() < deadline, "the cluster client did not recover"
                    await asyncio.sleep(0.2)
        finally:
            await client.aclose()


def _port_of(client: object, key: str) -> int:
    from redis.asyncio.cluster import RedisCluster
    from redis.crc import key_slot

    assert isinstance(client, RedisCluster)
    return int(client.nodes_manager.get_node_from_slot(key_slot(key.encode())).port)
