"""The whole service on a three-primary Redis Cluster of the tests' own:
`referrals serve` and `referrals worker` with codes, sessions, limits and
the task queue on the cluster, and the stream broker's promises there.

The contract suites (tests/contract) and the limit bursts
(test_limit_bursts.py) run on the same cluster.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis.cluster
from taskiq import AckableMessage

from referrals.adapters.redis.client import cluster_seeds
from referrals.adapters.taskiq import TaskiqCodeSender, build_broker
from referrals.application.ports import CodeDelivery
from referrals.domain.phone import Phone
from tests.flows import FLOW_SETTINGS, walk_through_the_api
from tests.integration.workers import clean_exit, redis_env, sms_sent, wait_for_log, worker
from tests.processes import serving

pytestmark = pytest.mark.redis_cluster

PHONE = "+79991234567"


def stream_state(cluster_url: str, queue: str) -> tuple[int, int]:
    """(entries in the task stream, entries read but not acknowledged)."""
    plain, _ = cluster_seeds(cluster_url)
    client = redis.cluster.RedisCluster.from_url(plain)
    try:
        length = int(client.xlen(queue))
        pending = sum(int(g["pending"]) for g in client.xinfo_groups(queue)) if length else 0
        return length, pending
    finally:
        client.close()


@pytest.fixture
def prefix() -> str:
    return f"referrals-test:{secrets.token_hex(6)}:"


@pytest.fixture
def cluster_env(tmp_path: Path, redis_cluster_url: str, prefix: str) -> dict[str, str]:
    return (
        redis_env(
            tmp_path,
            redis_cluster_url,
            prefix,
            expose_codes="true",
            sms_delay="0-0",
            limit_ip_send="1000/60",
            limit_ip_verify="1000/60",
        )
        | FLOW_SETTINGS
    )


@pytest.fixture
def service(cluster_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    with serving(cluster_env, tmp_path) as (url, _):
        yield url


@pytest.mark.slow
def test_the_api_and_a_worker_run_on_redis_cluster(
    service: str, cluster_env: dict[str, str], tmp_path: Path, redis_cluster_url: str, prefix: str
) -> None:
    with worker(cluster_env, tmp_path / "worker.log") as delivering:
        wait_for_log(delivering, "ready", 30)
        walk_through_the_api(service)
        login = httpx.post(f"{service}/api/login/", json={"phone": "+79990001122"}, timeout=10)
        assert login.status_code == 200, login.text
        wait_for_log(delivering, r"SMS to \+79990001122", 15)
        sent = dict(sms_sent([delivering]))
        verified = httpx.post(
            f"{service}/api/verify/{login.json()['token']}/",
            json={"confirm_code": sent["+79990001122"]},
            timeout=10,
        )
        assert verified.status_code == 200, verified.text
        deadline = time.monotonic() + 10
        while stream_state(redis_cluster_url, f"{prefix}tasks") != (0, 0):
            assert time.monotonic() < deadline, "the task stream did not drain"
            time.sleep(0.05)
    clean_exit(delivering.output())


def a_delivery() -> CodeDelivery:
    return CodeDelivery("c-1", Phone(PHONE), "sealed", time.time() + 300)


async def acknowledge(message: bytes | AckableMessage) -> None:
    assert isinstance(message, AckableMessage)
    done = message.ack()
    if done is not None:
        await done


async def test_a_queued_delivery_is_read_and_acknowledged_on_the_cluster(
    redis_cluster_url: str, prefix: str
) -> None:
    queue = f"{prefix}tasks"
    broker = build_broker(redis_cluster_url, queue=queue, poll=0.2)
    broker.is_worker_process = True
    await broker.startup()
    messages = broker.listen()
    try:
        await TaskiqCodeSender(broker, timeout=4.5).send(a_delivery())
        received = await asyncio.wait_for(anext(messages), 5)
        assert broker.formatter.loads(received.data).kwargs["challenge_id"] == "c-1"
        await acknowledge(received)
        assert stream_state(redis_cluster_url, queue) == (0, 0)  # acknowledged and deleted
    finally:
        await messages.aclose()
        await broker.shutdown()


async def test_an_unacknowledged_task_is_taken_over_on_the_cluster(
    redis_cluster_url: str, prefix: str
) -> None:
    redelivery, poll, queue = 1.0, 0.3, f"{prefix}tasks"
    crashed = build_broker(redis_cluster_url, queue=queue, redelivery=redelivery, poll=poll)
    taker = build_broker(redis_cluster_url, queue=queue, redelivery=redelivery, poll=poll)
    for broker in (crashed, taker):
        broker.is_worker_process = True
        await broker.startup()
    dead, alive = crashed.listen(), taker.listen()
    try:
        await TaskiqCodeSender(crashed, timeout=1).send(a_delivery())
        await asyncio.wait_for(anext(dead), 5)  # read, never acknowledged: a crash
        read = time.monotonic()
        taken = await asyncio.wait_for(anext(alive), redelivery + poll + 3)
        assert redelivery - 0.1 <= time.monotonic() - read <= redelivery + poll + 1.0
        await acknowledge(taken)
        assert stream_state(redis_cluster_url, queue) == (0, 0)
    finally:
        for generator in (dead, alive):
            await generator.aclose()
        for broker in (crashed, taker):
            await broker.shutdown()
