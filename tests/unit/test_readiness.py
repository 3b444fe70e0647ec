"""Readiness probes: each named, bounded by the timeout, run at once."""

from __future__ import annotations

import asyncio

from referrals.adapters.readiness import Readiness, build_readiness
from referrals.application.errors import ServiceUnavailable


async def answers() -> None:
    return None


async def refuses() -> None:
    raise ServiceUnavailable("Redis") from ConnectionRefusedError(111, "Connection refused")


async def hangs() -> None:
    await asyncio.Event().wait()


async def test_ready_when_every_probe_answers_with_each_latency() -> None:
    report = await Readiness({"database": answers, "redis": answers}, timeout=1).check()
    assert report.ready and report.failed == []
    assert [c.name for c in report.checks] == ["database", "redis"]
    assert all(c.latency_ms >= 0 and c.error is None for c in report.checks)


async def test_a_refusing_and_a_hanging_dependency_are_both_named() -> None:
    readiness = Readiness({"database": answers, "redis": refuses, "broker": hangs}, timeout=0.05)
    report = await readiness.check()
    assert not report.ready
    assert report.failed == ["redis", "broker"]
    errors = {c.name: c.error for c in report.checks}
    assert errors["redis"] == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert errors["broker"] == "no answer within 0.05 s"


async def test_only_limits_the_probes_run() -> None:
    readiness = Readiness({"database": refuses, "redis": answers}, timeout=1)
    report = await readiness.check(only=["redis"])
    assert report.ready and [c.name for c in report.checks] == ["redis"]


def test_only_configured_dependencies_get_a_probe() -> None:
    class Broker:
        async def ping(self) -> None: ...

    class Database:
        async def check_schema(self) -> None: ...

    assert build_readiness(database=None, redis=None, broker=None, timeout=1).names == []
    everything = build_readiness(database=Database(), redis=object(), broker=Broker(), timeout=1)
    assert everything.names == ["database", "redis", "broker"]
    in_process_queue = build_readiness(database=Database(), redis=None, broker=object(), timeout=1)
    assert in_process_queue.names == ["database"]
