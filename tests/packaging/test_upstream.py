"""What our code borrows from other packages' internals, pinned so an upgrade cannot
change it silently.

``ReclaimingRedisStreamBroker`` subclasses taskiq-redis's ``RedisStreamBroker``:
it replaces ``listen`` and ``startup`` and calls ``_declare_consumer_group``
and attributes set by ``__init__``. ``ReclaimingRedisStreamClusterBroker``
subclasses ``RedisStreamClusterBroker``: it sets the attributes that class's
``__init__`` sets (without building its client) and keeps its ``kick`` and
``shutdown``. ``pyproject.toml`` caps taskiq-redis
below 1.3; within that range, these fingerprints fail the suite when the
upstream code we build on changes, so the subclass is reviewed before the
pin moves (then record the new fingerprints here).
"""

from __future__ import annotations

import hashlib
import inspect

import pytest
from taskiq_redis import RedisStreamBroker, RedisStreamClusterBroker

from referrals.adapters.taskiq.broker import (
    ReclaimingRedisStreamBroker,
    ReclaimingRedisStreamClusterBroker,
    build_broker,
)
from tests.defaults import BROKER

FINGERPRINTS = {
    "__init__": "5a2daa117989f7e7",
    "startup": "721b75c3a75ad614",
    "listen": "1438933fb9feb9b0",
    "_declare_consumer_group": "beaf3ca182077c0c",
}
CLUSTER_FINGERPRINTS = {
    "__init__": "68fd1f427d8f60d8",
    "kick": "d9ec55298891b5d1",
    "shutdown": "3da85ab7cf8bb675",
}
ATTRIBUTES = (
    "queue_name",
    "consumer_group_name",
    "consumer_name",
    "block",
    "count",
    "idle_timeout",
    "unacknowledged_batch_size",
    "connection_pool",
)


@pytest.mark.parametrize("method", FINGERPRINTS)
def test_the_upstream_code_our_broker_builds_on_is_unchanged(method: str) -> None:
    source = inspect.getsource(getattr(RedisStreamBroker, method))
    fingerprint = hashlib.sha256(source.encode()).hexdigest()[:16]
    assert fingerprint == FINGERPRINTS[method], (
        f"taskiq-redis changed RedisStreamBroker.{method}: review ReclaimingRedisStreamBroker"
    )


def test_the_attributes_our_broker_reads_are_set_by_the_upstream_constructor() -> None:
    broker = ReclaimingRedisStreamBroker("redis://127.0.0.1:1/0", queue_name="q")
    for name in ATTRIBUTES:
        assert hasattr(broker, name), name


@pytest.mark.parametrize("method", CLUSTER_FINGERPRINTS)
def test_the_upstream_code_our_cluster_broker_builds_on_is_unchanged(method: str) -> None:
    source = inspect.getsource(getattr(RedisStreamClusterBroker, method))
    fingerprint = hashlib.sha256(source.encode()).hexdigest()[:16]
    assert fingerprint == CLUSTER_FINGERPRINTS[method], (
        f"taskiq-redis changed RedisStreamClusterBroker.{method}:"
        " review ReclaimingRedisStreamClusterBroker"
    )


async def test_the_cluster_broker_sets_every_attribute_the_upstream_one_does() -> None:
    upstream = RedisStreamClusterBroker("redis://127.0.0.1:1/0", queue_name="q")
    ours = build_broker("redis+cluster://127.0.0.1:1", **(BROKER | {"queue": "q"}))
    assert isinstance(ours, ReclaimingRedisStreamClusterBroker)
    try:
        missing = set(vars(upstream)) - set(vars(ours))
        assert not missing
    finally:
        await upstream.redis.aclose()
        await ours.redis.aclose()
