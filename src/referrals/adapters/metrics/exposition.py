"""Exposition: the text a scrape gets, from one process or from many.

``referrals serve`` and ``referrals worker`` run their processes with
``PROMETHEUS_MULTIPROC_DIR`` set (a temporary directory of the run unless the
operator set one): each process writes its values to files there and a
scrape sums the files of every process, the dead ones' too (counters do
not go back when a process is replaced). Without it (a test, a host's own
server), the scrape reads the app's own registry.

The queue's backlog is read from its Redis stream at scrape time
(:class:`QueueCollector`), never counted per task.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

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
            import redis
            import redis.cluster

            from referrals.adapters.redis.client import cluster_seeds, is_cluster_url

            url = self.settings.broker_url or ""
            timeout = self.settings.ready_timeout
            options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
            if is_cluster_url(url):
                self._client = redis.cluster.RedisCluster.from_url(cluster_seeds(url)[0], **options)
            else:
                self._client = redis.Redis.from_url(url, **options)
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
