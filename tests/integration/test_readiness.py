"""Readiness under real outages: the API's ``/health/ready`` and ``referrals
health --worker`` against throwaway PostgreSQL and Redis servers of their own
(:mod:`tests.servers`), each stopped and started again.

While a dependency is away readiness answers 503 (exit status 1) naming it,
and liveness still answers 200; once it is back, readiness is 200 (exit
status 0) again without any restart.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.workers import wait_for_log
from tests.processes import BIN, Process, child_env, run_cli, serving, started
from tests.servers import PostgresCluster, RedisServer

pytestmark = pytest.mark.slow

SECRET = "readiness-tests-secret-key-0123456789abcdef"
RECOVERY = 30.0
"""Seconds readiness may take to turn 200 again once a server is back."""


def eventually(check: Callable[[], bool], within: float = RECOVERY) -> bool:
    """Poll ``check`` until it holds (a bounded wait, not a timing assertion)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_readiness_names_each_stopped_dependency_and_recovers_by_itself(
    tmp_path: Path,
    postgres: PostgresCluster,
    stores_redis: RedisServer,
    broker_redis: RedisServer,
) -> None:
    env = {
        "REFERRALS_DATABASE_URL": postgres.url,
        "REFERRALS_REDIS_URL": stores_redis.url,
        "REFERRALS_BROKER_URL": broker_redis.url,
        "REFERRALS_SECRET_KEY": SECRET,
        "REFERRALS_READY_TIMEOUT": "1",
    }
    subprocess.run([str(BIN / "referrals"), "migrate"], env=child_env(env), check=True, timeout=60)
    with serving(env, tmp_path) as (url, process):

        def ready() -> httpx.Response:
            return httpx.get(f"{url}/health/ready", timeout=10)

        answer = ready()
        assert answer.status_code == 200, answer.text
        checks = answer.json()["checks"]
        assert set(checks) == {"database", "redis", "broker"}
        assert all(check["ok"] and check["latency_ms"] >= 0 for check in checks.values())

        servers: list[tuple[str, Callable[[], None], Callable[[], None]]] = [
            ("database", postgres.stop, postgres.start),
            ("redis", stores_redis.stop, stores_redis.start),
            ("broker", broker_redis.stop, broker_redis.start),
        ]
        for name, stop, start in servers:
            stop()
            answer = ready()
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            problem = answer.json()
            assert problem["failed"] == [name], problem
            assert name in problem["detail"]
            assert not problem["checks"][name]["ok"]
            assert httpx.get(f"{url}/health/live", timeout=10).status_code == 200
            start()
            assert eventually(lambda: ready().status_code == 200), ready().text
        assert process.popen.poll() is None, process.output()


def health(*args: str, env: dict[str, str]) -> tuple[int, dict[str, object]]:
    """Run ``referrals health ARGS``: its exit status and the JSON it printed."""
    result = run_cli("health", *args, env=env)
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_the_cli_probe_of_the_api_follows_its_readiness(
    tmp_path: Path, stores_redis: RedisServer
) -> None:
    env = {
        "REFERRALS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3",
        "REFERRALS_REDIS_URL": stores_redis.url,
        "REFERRALS_SECRET_KEY": SECRET,
        "REFERRALS_READY_TIMEOUT": "1",
    }
    with serving(env, tmp_path) as (url, _):
        status, report = health("--url", f"{url}/health/ready", env=env)
        assert status == 0, report
        assert set(report["checks"]) == {"database", "redis"}  # type: ignore[arg-type]
        stores_redis.stop()
        status, report = health("--url", f"{url}/health/ready", env=env)
        assert (status, report["failed"]) == (1, ["redis"]), report
    status, report = health("--url", f"{url}/health/ready", env=env)  # the API is gone
    assert (status, report["status"]) == (1, "unreachable"), report


def test_worker_readiness_names_each_stopped_redis_and_recovers_by_itself(
    tmp_path: Path, stores_redis: RedisServer, broker_redis: RedisServer
) -> None:
    env = {
        "REFERRALS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3",
        "REFERRALS_REDIS_URL": stores_redis.url,
        "REFERRALS_BROKER_URL": broker_redis.url,
        "REFERRALS_SECRET_KEY": SECRET,
        "REFERRALS_READY_TIMEOUT": "1",
        "REFERRALS_WORKER_HEARTBEAT": str(tmp_path / "worker.heartbeat"),
    }
    status, report = health("--worker", env=env)
    assert (status, report["failed"]) == (1, ["heartbeat"]), report  # no worker yet

    worker: Process
    with started(["worker"], env, tmp_path / "worker.log") as worker:
        wait_for_log(worker, r"ready \(pid", timeout=60)
        assert eventually(lambda: health("--worker", env=env)[0] == 0), worker.output()
        for name, server in (("redis", stores_redis), ("broker", broker_redis)):
            server.stop()
            status, report = health("--worker", env=env)
            assert (status, report["failed"]) == (1, [name]), report
            server.start()
            assert eventually(lambda: health("--worker", env=env)[0] == 0), worker.output()
        assert worker.popen.poll() is None, worker.output()
