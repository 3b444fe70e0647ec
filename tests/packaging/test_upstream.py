"""What our code borrows from other packages' internals, pinned so an upgrade cannot
change it silently.

``ReclaimingRedisStreamBroker`` subclasses taskiq-redis's ``RedisStreamBroker``:
it replaces ``listen`` and ``startup`` and calls ``_declare_consumer_group``
and attributes set by ``__init__``. ``pyproject.toml`` caps taskiq-redis
below 1.3; within that range, these fingerprints fail the suite when the
upstream code we build on changes, so the subclass is reviewed before the
pin moves (then record the new fingerprints here).
"""

from __future__ import annotations

import hashlib
import inspect

import pytest
from taskiq_redis import RedisStreamBroker

from referrals.adapters.taskiq.broker import ReclaimingRedisStreamBroker

FINGERPRINTS = {
    "__init__": "5a2daa117989f7e7",
    "startup": "721b75c3a75ad614",
    "listen": "1438933fb9feb9b0",
    "_declare_consumer_group": "beaf3ca182077c0c",
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
