"""One fixture per port, parametrised over every adapter of it.

Each contract test runs once per adapter, so the in-memory fakes cannot
drift from the real ones. Redis and the databases are only requested by
their own parameters: the memory runs need no server.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio

from referrals.adapters.memory import (
    InMemoryActivityLog,
    InMemoryChallengeStore,
    InMemoryCircuitBreaker,
    InMemoryConversionLog,
    InMemoryCooldowns,
    InMemoryDeliveries,
    InMemoryDeliveryLedger,
    InMemoryDeliveryLog,
    InMemoryRateLimiter,
    InMemorySessionStore,
    InMemorySpendLedger,
    InMemoryUsers,
)
from referrals.adapters.redis import (
    RedisActivityLog,
    RedisChallengeStore,
    RedisCircuitBreaker,
    RedisCodeCheck,
    RedisCompletion,
    RedisConversionLog,
    RedisCooldowns,
    RedisDeliveryLedger,
    RedisDeliveryLog,
    RedisRateLimiter,
    RedisSendGate,
    RedisSessionStore,
    RedisSpendLedger,
    connect_redis,
)
from referrals.adapters.redis.session_cache import CachedRedisSessionStore
from referrals.adapters.sql import Database, sql_unit_of_work
from referrals.adapters.sql.deliveries import SqlDeliveries
from referrals.application.code_check import StepwiseCodeCheck
from referrals.application.completion import StepwiseCompletion
from referrals.application.ports import (
    ActivityLog,
    ChallengeStore,
    CircuitBreaker,
    ConversionLog,
    Cooldowns,
    DeliveryLedger,
    DeliveryLog,
    RateLimiter,
    SessionStore,
    SpendLedger,
    UnitOfWorkFactory,
)
from referrals.application.send_gate import SteppedSendGate
from referrals.testing.contracts import GateParts
from referrals.testing.contracts import circuit as circuit_contract
from referrals.testing.contracts import conversion as conversion_contract
from referrals.testing.contracts import deliveries as deliveries_contract
from referrals.testing.contracts import delivery_log as log_contract
from referrals.testing.contracts import send_gate as gate_contract
from referrals.testing.contracts import spend as spend_contract
from referrals.testing.contracts.code_check import CodeCheckStores
from referrals.testing.contracts.completion import COUNTED_CHANNELS, CompletionStores
from tests.defaults import TIMEOUT
from tests.shared_host import host_commits_each_unit, host_engine

MEMORY_OR_REDIS = [
    "memory",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("redis-decoded", marks=pytest.mark.redis),
    pytest.param("redis-cluster", marks=pytest.mark.redis_cluster),
]
"""``redis-decoded``: a host's own ``redis.asyncio.Redis`` with
``decode_responses=True`` (ours keeps bytes), as docs/library.md allows."""


@asynccontextmanager
async def _on_redis(
    request: pytest.FixtureRequest, adapter: Callable[[Any, str], Any], kind: str = ""
) -> AsyncIterator[Any]:
    """The adapter on a fresh client, in the test's own key prefix (on the
    shared server, or on the session's own throwaway cluster)."""
    if (kind or request.param) == "redis-cluster":
        client = connect_redis(request.getfixturevalue("redis_cluster_url"), timeout=TIMEOUT)
        prefix = f"referrals-test:{secrets.token_hex(6)}:"
    elif request.param == "redis-decoded":
        url = request.getfixturevalue("redis_server_url")
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url, decode_responses=True, max_connections=50, timeout=TIMEOUT
        )
        client = redis.asyncio.Redis(connection_pool=pool)
        prefix = request.getfixturevalue("redis_prefix")
    else:
        client = connect_redis(request.getfixturevalue("redis_server_url"), timeout=TIMEOUT)
        prefix = request.getfixturevalue("redis_prefix")
    try:
        yield adapter(client, prefix)
    finally:
        await client.aclose()


@asynccontextmanager
async def _adapter(
    request: pytest.FixtureRequest, memory: Callable[[], Any], redis: Callable[[Any, str], Any]
) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield memory()
        return
    async with _on_redis(request, redis) as adapter:
        yield adapter


@pytest.fixture(params=MEMORY_OR_REDIS)
async def challenges(request: pytest.FixtureRequest) -> AsyncIterator[ChallengeStore]:
    async with _adapter(request, InMemoryChallengeStore, RedisChallengeStore) as store:
        yield store


@pytest.fixture(
    params=[
        *MEMORY_OR_REDIS,
        pytest.param("redis-cached", marks=pytest.mark.redis),
        pytest.param("redis-cluster-cached", marks=pytest.mark.redis_cluster),
    ]
)
async def sessions(request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    if not request.param.endswith("-cached"):
        async with _adapter(request, InMemorySessionStore, RedisSessionStore) as store:
            yield store
        return
    async with _on_redis(request, cached_sessions, request.param.removesuffix("-cached")) as cached:
        await cached.start()
        assert await cached.wait_live(5), "session invalidations did not start"
        try:
            yield cached
        finally:
            await cached.aclose()


def cached_sessions(client: Any, prefix: str) -> CachedRedisSessionStore:
    return CachedRedisSessionStore(client, prefix, capacity=1_000, timeout=TIMEOUT)


@pytest.fixture(params=MEMORY_OR_REDIS)
async def cooldowns(request: pytest.FixtureRequest) -> AsyncIterator[Cooldowns]:
    async with _adapter(request, InMemoryCooldowns, RedisCooldowns) as store:
        yield store


@pytest.fixture(params=MEMORY_OR_REDIS)
async def activity(request: pytest.FixtureRequest) -> AsyncIterator[ActivityLog]:
    async with _adapter(request, InMemoryActivityLog, RedisActivityLog) as adapter:
        yield adapter


@pytest.fixture(params=MEMORY_OR_REDIS)
async def conversion(request: pytest.FixtureRequest) -> AsyncIterator[ConversionLog]:
    bucket = conversion_contract.BUCKET
    async with _adapter(
        request,
        lambda: InMemoryConversionLog(bucket),
        lambda client, prefix: RedisConversionLog(client, prefix, bucket),
    ) as adapter:
        yield adapter


@pytest.fixture(params=MEMORY_OR_REDIS)
async def spend(request: pytest.FixtureRequest) -> AsyncIterator[SpendLedger]:
    async with _adapter(
        request,
        InMemorySpendLedger,
        lambda client, prefix: RedisSpendLedger(client, prefix, spend_contract.BUCKET),
    ) as adapter:
        yield adapter


@pytest.fixture(params=MEMORY_OR_REDIS)
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    async with _adapter(request, InMemoryRateLimiter, RedisRateLimiter) as adapter:
        yield adapter


def _redis_code_check(client: Any, prefix: str) -> CodeCheckStores:
    limiter, challenges = RedisRateLimiter(client, prefix), RedisChallengeStore(client, prefix)
    cooldowns = RedisCooldowns(client, prefix)
    check = RedisCodeCheck(limiter, challenges, cooldowns)
    return CodeCheckStores(check, limiter, challenges, cooldowns)


def _memory_code_check() -> CodeCheckStores:
    limiter, challenges = InMemoryRateLimiter(), InMemoryChallengeStore()
    cooldowns = InMemoryCooldowns()
    check = StepwiseCodeCheck(limiter, challenges, cooldowns)
    return CodeCheckStores(check, limiter, challenges, cooldowns)


@pytest.fixture(params=MEMORY_OR_REDIS)
async def code_check_stores(request: pytest.FixtureRequest) -> AsyncIterator[CodeCheckStores]:
    async with _adapter(request, _memory_code_check, _redis_code_check) as stores:
        yield stores


def redis_gate(client: Any, prefix: str) -> GateParts:
    bucket = gate_contract.BUCKET
    return GateParts(
        RedisSendGate(client, prefix, bucket, bucket),
        RedisRateLimiter(client, prefix),
        RedisConversionLog(client, prefix, bucket),
        RedisSpendLedger(client, prefix, bucket),
        RedisChallengeStore(client, prefix),
    )


def memory_gate() -> GateParts:
    limiter, challenges = InMemoryRateLimiter(), InMemoryChallengeStore()
    conversion = InMemoryConversionLog(gate_contract.BUCKET)
    spend = InMemorySpendLedger()
    gate = SteppedSendGate(limiter, conversion, spend, challenges, asyncio.Lock())
    return GateParts(gate, limiter, conversion, spend, challenges)


@pytest.fixture(params=MEMORY_OR_REDIS)
async def gate(request: pytest.FixtureRequest) -> AsyncIterator[GateParts]:
    async with _adapter(request, memory_gate, redis_gate) as parts:
        yield parts


def _redis_completion(client: Any, prefix: str) -> CompletionStores:
    challenges, sessions = RedisChallengeStore(client, prefix), RedisSessionStore(client, prefix)
    limiter, conversion = RedisRateLimiter(client, prefix), RedisConversionLog(client, prefix, 60)
    delivery_log = RedisDeliveryLog(client, prefix, 3600, 3)
    activity = RedisActivityLog(client, prefix)
    completion = RedisCompletion(
        challenges, sessions, limiter, conversion, delivery_log, activity, COUNTED_CHANNELS
    )
    return CompletionStores(
        completion, challenges, sessions, limiter, conversion, delivery_log, activity
    )


def _memory_completion() -> CompletionStores:
    challenges, sessions = InMemoryChallengeStore(), InMemorySessionStore()
    limiter, conversion = InMemoryRateLimiter(), InMemoryConversionLog(60)
    delivery_log, activity = InMemoryDeliveryLog(3600, 3), InMemoryActivityLog()
    completion = StepwiseCompletion(
        challenges, sessions, limiter, conversion, delivery_log, activity
    )
    return CompletionStores(
        completion, challenges, sessions, limiter, conversion, delivery_log, activity
    )


@pytest.fixture(params=MEMORY_OR_REDIS)
async def completion_stores(request: pytest.FixtureRequest) -> AsyncIterator[CompletionStores]:
    async with _adapter(request, _memory_completion, _redis_completion) as stores:
        yield stores


@pytest.fixture(params=MEMORY_OR_REDIS)
async def delivery_ledger(request: pytest.FixtureRequest) -> AsyncIterator[DeliveryLedger]:
    async with _adapter(request, InMemoryDeliveryLedger, RedisDeliveryLedger) as adapter:
        yield adapter


CIRCUIT = (
    circuit_contract.THRESHOLD,
    circuit_contract.WINDOW,
    circuit_contract.COOLDOWN,
    circuit_contract.PROBE_LEASE,
)
LOG_KEEP = 3600.0


@pytest.fixture(params=MEMORY_OR_REDIS)
async def circuit(request: pytest.FixtureRequest) -> AsyncIterator[CircuitBreaker]:
    async with _adapter(
        request,
        lambda: InMemoryCircuitBreaker(*CIRCUIT),
        lambda client, prefix: RedisCircuitBreaker(client, prefix, *CIRCUIT),
    ) as adapter:
        yield adapter


@pytest.fixture(params=MEMORY_OR_REDIS)
async def delivery_log(request: pytest.FixtureRequest) -> AsyncIterator[DeliveryLog]:
    async with _adapter(
        request,
        lambda: InMemoryDeliveryLog(LOG_KEEP, log_contract.RECENT),
        lambda client, prefix: RedisDeliveryLog(client, prefix, LOG_KEEP, log_contract.RECENT),
    ) as adapter:
        yield adapter


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("pgbouncer", marks=[pytest.mark.postgres, pytest.mark.pgbouncer]),
        "shared-aiosqlite",
        pytest.param("shared-psycopg", marks=pytest.mark.postgres),
    ]
)
def unit_of_work(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    """A factory of units of work on a fresh, empty store of users (PostgreSQL
    directly, and through PgBouncer in transaction mode; and both databases
    inside a host's own transactions, on SQLAlchemy's async drivers)."""
    if request.param == "memory":
        return InMemoryUsers().unit_of_work
    if request.param.startswith("shared-"):
        return request.getfixturevalue(request.param.replace("-", "_"))  # type: ignore[no-any-return]
    fixture = {"sqlite": "sqlite_database", "postgresql": "postgres_database"}
    database = request.getfixturevalue(fixture.get(request.param, "pgbouncer_database"))
    return sql_unit_of_work(database)


@pytest.fixture
async def shared_aiosqlite(sqlite_database: Database) -> AsyncIterator[UnitOfWorkFactory]:
    async with host_engine(sqlite_database.url) as engine:
        yield host_commits_each_unit(engine, sqlite_database.namespace)


@pytest.fixture
async def shared_psycopg(postgres_database: Database) -> AsyncIterator[UnitOfWorkFactory]:
    async with host_engine(postgres_database.url) as engine:
        yield host_commits_each_unit(engine, postgres_database.namespace)


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("pgbouncer", marks=[pytest.mark.postgres, pytest.mark.pgbouncer]),
    ]
)
def webhook_store(request: pytest.FixtureRequest) -> deliveries_contract.Store:
    """An empty outbox and the webhook deliveries over it."""
    if request.param == "memory":
        users = InMemoryUsers()
        return deliveries_contract.Store(users.unit_of_work, InMemoryDeliveries(users.outbox))
    fixture = {"sqlite": "sqlite_database", "postgresql": "postgres_database"}
    database = request.getfixturevalue(fixture.get(request.param, "pgbouncer_database"))
    return deliveries_contract.Store(sql_unit_of_work(database), SqlDeliveries(database))
