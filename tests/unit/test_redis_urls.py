"""Which Redis client a URL gives, without connecting."""

from __future__ import annotations

import pytest
import redis.asyncio

from referrals.adapters.redis.client import (
    WaitingRedisCluster,
    cluster_seeds,
    connect_redis,
    is_cluster_url,
)
from tests.defaults import TIMEOUT


def test_a_cluster_url_names_its_seed_nodes_and_keeps_the_rest() -> None:
    plain, seeds = cluster_seeds("rediss+cluster://u:p@a:7000,b:7001,[::1]:7002/0?x=1")
    assert plain == "rediss://u:p@a:7000/0?x=1"
    assert seeds == [("a", 7000), ("b", 7001), ("::1", 7002)]


def test_a_seed_without_a_port_is_refused() -> None:
    with pytest.raises(ValueError, match="host:port"):
        cluster_seeds("redis+cluster://a:7000,b")


@pytest.mark.parametrize(
    ("url", "cluster"),
    [
        ("redis://cache:6379/0", False),
        ("rediss://cache:6379/0", False),
        ("unix:///run/redis.sock", False),
        ("redis+cluster://cache:7000", True),
        ("rediss+cluster://cache:7000", True),
    ],
)
async def test_the_url_scheme_picks_the_client(url: str, cluster: bool) -> None:
    assert is_cluster_url(url) is cluster
    client = connect_redis(url, timeout=TIMEOUT)
    try:
        assert isinstance(client, WaitingRedisCluster if cluster else redis.asyncio.Redis)
    finally:
        await client.aclose()
