"""Prometheus metrics: the instruments, the event sink that feeds them, and
the exposition (one process, or many through ``PROMETHEUS_MULTIPROC_DIR``)."""

from referrals.adapters.metrics.events import MetricsSink
from referrals.adapters.metrics.exposition import (
    exposition,
    process_ended,
    scrape_registry,
    serve_metrics,
)
from referrals.adapters.metrics.instruments import Metrics

__all__ = [
    "Metrics",
    "MetricsSink",
    "exposition",
    "process_ended",
    "scrape_registry",
    "serve_metrics",
]
