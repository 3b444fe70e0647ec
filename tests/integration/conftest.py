"""Throwaway servers (:mod:`tests.servers`) for the outage tests: one PostgreSQL
cluster and two Redis servers (the stores' and the broker's) per test, never
the shared 5432/6379."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import PostgresCluster, RedisServer, postgres_cluster, redis_server


@pytest.fixture
def postgres() -> Iterator[PostgresCluster]:
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture
def stores_redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def broker_redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server
