"""Helpers for tests that run `referrals serve` and `referrals worker` on a real Redis."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import httpx
import redis
import redis.cluster

from referrals.adapters.redis.client import cluster_seeds, is_cluster_url
from tests.processes import Process, started

SECRET_KEY = "worker-tests-secret-key-0123456789abcdef"
SMS_LINE = re.compile(r"SMS to (\+\d+): Your login code: (\d+)\.")


def redis_env(tmp_path: Path, redis_url: str, prefix: str, **extra: str | float) -> dict[str, str]:
    """Settings for an API and its workers sharing one Redis under ``prefix``."""
    env = {
        "REFERRALS_REDIS_URL": redis_url,
        "REFERRALS_BROKER_URL": redis_url,
        "REFERRALS_REDIS_PREFIX": prefix,
        "REFERRALS_SECRET_KEY": SECRET_KEY,
        "REFERRALS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3",
    }
    env.update({f"REFERRALS_{name.upper()}": str(value) for name, value in extra.items()})
    return env


def login(url: str, phone: str) -> str:
    """Log ``phone`` in; return the code the API exposes in development."""
    answer = httpx.post(f"{url}/api/login/", json={"phone": phone}, timeout=10)
    assert answer.status_code == 200, answer.text
    code: str = answer.json()["confirm_code"]
    return code


def wait_for_log(
    processes: Process | Iterable[Process], pattern: str, timeout: float, count: int = 1
) -> float:
    """Wait until ``pattern`` (a regex) occurs ``count`` times across the logs;
    return ``time.monotonic()`` when it was seen. Fails with the logs otherwise."""
    group = [processes] if isinstance(processes, Process) else list(processes)
    deadline = time.monotonic() + timeout
    while True:
        found = sum(len(re.findall(pattern, p.output())) for p in group)
        if found >= count:
            return time.monotonic()
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.log.name}\n{p.output()}" for p in group)
            raise AssertionError(f"{pattern!r} seen {found}/{count} times in {timeout} s:\n{logs}")
        time.sleep(0.05)


def sms_sent(processes: Iterable[Process]) -> list[tuple[str, str]]:
    """Every (phone, code) the console gateway logged, across the logs."""
    return [(m[1], m[2]) for p in processes for m in SMS_LINE.finditer(p.output())]


def kill_group(process: Process) -> None:
    """SIGKILL the process and every child it forked (it leads its own session)."""
    os.killpg(process.popen.pid, signal.SIGKILL)
    process.popen.wait(10)


def queue_state(redis_url: str, prefix: str) -> tuple[int, int]:
    """(entries in the task stream, entries read but not acknowledged), on one
    Redis server or on a Redis Cluster (``redis+cluster://``)."""
    client: redis.Redis | redis.cluster.RedisCluster
    if is_cluster_url(redis_url):
        client = redis.cluster.RedisCluster.from_url(cluster_seeds(redis_url)[0])
    else:
        client = redis.Redis.from_url(redis_url)
    try:
        stream = f"{prefix}tasks"
        length = int(client.xlen(stream))
        pending = 0
        if length:
            groups = client.xinfo_groups(stream)
            pending = sum(int(g["pending"]) for g in groups)
        return length, pending
    finally:
        client.close()


def wait_until_drained(redis_url: str, prefix: str, timeout: float) -> None:
    """Wait until every task in the stream was acknowledged (and so deleted)."""
    deadline = time.monotonic() + timeout
    while (state := queue_state(redis_url, prefix)) != (0, 0):
        assert time.monotonic() < deadline, f"the task stream is not drained: {state}"
        time.sleep(0.05)


def clean_exit(output: str) -> None:
    """No crash, restart or traceback in a worker's log."""
    assert "Traceback" not in output, output
    assert "is dead. Scheduling reload" not in output, output


@contextlib.contextmanager
def worker(env: Mapping[str, str], log: Path, *args: str) -> Iterator[Process]:
    """`referrals worker ARGS`; stopped with SIGTERM at the end, and whatever of
    its process group is still alive then (forked workers) is killed."""
    with started(["worker", *args], env, log) as process:
        try:
            yield process
        finally:
            process.stop()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.popen.pid, signal.SIGKILL)
