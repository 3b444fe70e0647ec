"""Exposition: the text a scrape gets, from one process or from many.

``referrals serve`` and ``referrals worker`` run their processes with
``PROMETHEUS_MULTIPROC_DIR`` set (a temporary directory of the run unless the
operator set one): each process writes its values to files there and a
scrape sums the files of every process, the dead ones' too (counters do
not go back when a process is replaced). Without it (a test, a host's own
server), the scrape reads the app's own registry.

The queue's backlog is read from its Redis stream at scrape time
(:class:`QueueCollector`), never counted per task; so are the channels'
circuits (:class:`CircuitCollector`), from the Redis every worker shares.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from referrals.adapters.redis.circuit import circuit_key
from referrals.domain.delivery import CircuitState, circuit_state
from referrals.settings import Settings

log = logging.getLogger(__name__)

OVERDUE_CAP = 10_000
"""At most this many overdue tasks are counted at one scrape."""


def process_ended() -> None:
    """Mark this process dead for the multiprocess gauges (a no-op otherwise)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        with contextlib.suppress(OSError):
            mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]


def _sync_redis(url: str, timeout: float) -> Any:
    """A blocking client for reads at scrape time (a scrape runs in a thread)."""
    import redis
    import redis.cluster

    from referrals.adapters.redis.client import cluster_seeds, is_cluster_url

    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if is_cluster_url(url):
        return redis.cluster.RedisCluster.from_url(cluster_seeds(url)[0], **options)
    return redis.Redis.from_url(url, **options)


CIRCUIT_VALUES = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


class CircuitCollector(Collector):
    """Reads each channel's circuit from Redis at each scrape (the circuits are
    shared by every worker, so any process can tell): 0 closed, 1 half open
    (a probe may go), 2 open."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.channels = settings.routes.channels
        self._client: Any = None

    def read(self) -> dict[str, CircuitState]:
        if self._client is None:
            self._client = _sync_redis(self.settings.redis_url or "", self.settings.ready_timeout)
        now = time.time()
        states = {}
        for channel in self.channels:
            key = circuit_key(self.settings.redis_prefix, channel)
            open_until = self._client.hget(key, "open_until")
            states[channel] = circuit_state(None if open_until is None else float(open_until), now)
        return states

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "referrals_circuit_state",
            "Each channel's circuit: 0 closed, 1 half open, 2 open (no attempt goes to it)",
            labels=["channel"],
        )
        try:
            states = self.read()
        except Exception as exc:  # a scrape must answer even while Redis is away
            log.warning("could not read the circuits for metrics: %s", exc)
            return
        for channel, state in states.items():
            gauge.add_metric([channel], CIRCUIT_VALUES[state])
        yield gauge


class QueueCollector(Collector):
    """Reads the task stream at each scrape: tasks waiting to be read, read but
    not acknowledged (pending), and of those the ones idle past the redelivery
    time (overdue: their worker died or their delivery failed)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.queue = settings.task_queue
        self.idle_ms = int(settings.broker_redelivery * 1000)
        self._client: Any = None

    def _redis(self) -> Any:
        if self._client is None:
            self._client = _sync_redis(self.settings.broker_url or "", self.settings.ready_timeout)
        return self._client

    def read(self) -> tuple[int, int, int]:
        from redis.exceptions import ResponseError

        client = self._redis()
        length = int(client.xlen(self.queue))
        pending = overdue = 0
        with contextlib.suppress(ResponseError):  # no stream or no group yet
            pending = int(client.xpending(self.queue, "referrals")["pending"])
            if pending:
                late = client.xpending_range(
                    self.queue, "referrals", "-", "+", OVERDUE_CAP, idle=self.idle_ms
                )
                overdue = len(late)
        # Acknowledged tasks are deleted: the stream holds the waiting and the pending.
        return max(0, length - pending), pending, overdue

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            waiting, pending, overdue = self.read()
        except Exception as exc:  # a scrape must answer even while the queue's Redis is away
            log.warning("could not read the task queue for metrics: %s", exc)
            yield GaugeMetricFamily("referrals_queue_up", "Whether the queue's Redis answered", 0)
            return
        yield GaugeMetricFamily("referrals_queue_up", "Whether the queue's Redis answered", 1)
        yield GaugeMetricFamily(
            "referrals_queue_depth", "Tasks queued and not yet read by a worker", waiting
        )
        yield GaugeMetricFamily(
            "referrals_queue_pending",
            "Tasks read by a worker and not acknowledged (running, or waiting to be redelivered)",
            pending,
        )
        yield GaugeMetricFamily(
            "referrals_queue_overdue",
            "Pending tasks idle past the redelivery time: due to be handed out again",
            overdue,
        )


def scrape_registry(own: CollectorRegistry | None, settings: Settings) -> CollectorRegistry:
    """What a scrape reads (build it once and keep it): every process's files
    (multiprocess) or ``own``, plus the queue's backlog when a broker is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = own or CollectorRegistry()
    if settings.broker_url:
        registry.register(QueueCollector(settings))
    if settings.redis_url:
        registry.register(CircuitCollector(settings))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The Prometheus text format of ``registry``."""
    return generate_latest(registry)


def serve_metrics(settings: Settings, host: str, port: int) -> None:
    """Serve ``/metrics`` on ``host:port`` from a thread of this (parent) process,
    summing the files of the processes it starts."""
    registry = scrape_registry(None, settings)
    start_http_server(port, addr=host, registry=registry)
    log.info("metrics on http://%s:%d/metrics", host, port)
