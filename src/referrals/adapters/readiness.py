"""Readiness: is every dependency this process was configured with answering?

:class:`Readiness` holds one probe per configured dependency (``database``,
``redis``, ``broker``) and runs them at once, each bounded by ``timeout``
seconds; :meth:`Readiness.check` says which answered and how fast. Only the
dependencies actually configured get a probe: the in-process stores and
queue have nothing to check, the embedded SQLite database has.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

Probe = Callable[[], Awaitable[object]]
"""One round trip to a dependency; it raises (or overruns) when the dependency is away."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """How one probe went: ``error`` is ``None`` when the dependency answered."""

    name: str
    latency_ms: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    checks: tuple[CheckResult, ...]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> list[str]:
        """The names of the dependencies that did not answer."""
        return [check.name for check in self.checks if not check.ok]


class Readiness:
    """Probes by dependency name, each run with a ``timeout`` (seconds)."""

    def __init__(self, probes: dict[str, Probe], timeout: float) -> None:
        self.probes = probes
        self.timeout = timeout

    @property
    def names(self) -> list[str]:
        return list(self.probes)

    async def check(self, only: Collection[str] | None = None) -> ReadinessReport:
        """Run every probe (or those named in ``only``) concurrently."""
        chosen = [name for name in self.probes if only is None or name in only]
        results = await asyncio.gather(*(self._run(name) for name in chosen))
        return ReadinessReport(tuple(results))

    async def _run(self, name: str) -> CheckResult:
        started = time.perf_counter()
        error: str | None = None
        try:
            await asyncio.wait_for(self.probes[name](), self.timeout)
        except TimeoutError:
            error = f"no answer within {self.timeout:g} s"
        except Exception as exc:  # any failure means "not ready", whatever the driver
            error = _describe(exc)
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        return CheckResult(name=name, latency_ms=elapsed, error=error)


def _describe(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    text = str(cause).splitlines()[0] if str(cause) else ""
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def build_readiness(*, database: Any, redis: Any, broker: Any, timeout: float) -> Readiness:
    """Probes for what is configured: ``database`` (a ``Database``, or ``None``
    when a host gave its own unit of work), ``redis`` (the stores' client, or
    ``None`` for in-process stores), ``broker`` (a Redis stream broker, or
    ``None`` for the in-process queue)."""
    probes: dict[str, Probe] = {}
    if database is not None:
        probes["database"] = database.check_schema
    if redis is not None:
        probes["redis"] = _redis_ping(redis)
    if broker is not None and hasattr(broker, "ping"):
        probes["broker"] = broker.ping
    return Readiness(probes, timeout)


def _redis_ping(client: Any) -> Probe:
    async def ping() -> object:
        from redis.asyncio.cluster import RedisCluster

        if isinstance(client, RedisCluster):  # every primary: each holds a share of the keys
            return await client.ping(target_nodes=RedisCluster.PRIMARIES)
        return await client.ping()

    return ping
