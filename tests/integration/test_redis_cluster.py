"""The whole service on a three-primary Redis Cluster of the tests' own:
`referrals serve` and `referrals worker` with codes, sessions, limits and
the task queue on the cluster.

The contract suites (tests/contract), the limit bursts (test_limit_bursts.py)
and the stream broker's promises (test_worker_delivery.py) run on the same
cluster too.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.flows import FLOW_SETTINGS, walk_through_the_api
from tests.integration.workers import (
    clean_exit,
    redis_env,
    sms_sent,
    wait_for_log,
    wait_until_drained,
    worker,
)
from tests.processes import serving

pytestmark = pytest.mark.redis_cluster


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
        wait_until_drained(redis_cluster_url, prefix, 10)
    clean_exit(delivering.output())
