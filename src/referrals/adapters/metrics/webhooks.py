"""The webhooks' metrics: deliveries by endpoint and outcome, each endpoint's
lag and dead letters (docs/events.md). Labels: endpoint names (configured,
so bounded), outcomes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from referrals.application.webhooks import DeliveriesMeasured, WebhookAttempted


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "referrals_webhook_deliveries",
            "Webhook POSTs by endpoint and outcome (delivered, pending: to be retried, dead)",
            ["endpoint", "outcome"],
            registry=registry,
        )
        self.lag = Gauge(
            "referrals_webhook_lag_seconds",
            "Age of the oldest event not yet delivered to the endpoint (0: none waiting)",
            ["endpoint"],
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.dead = Gauge(
            "referrals_webhook_dead_letters",
            "Deliveries that gave up (until replayed), by endpoint",
            ["endpoint"],
            registry=registry,
            multiprocess_mode="livemax",
        )

    def attempted(self, event: WebhookAttempted) -> None:
        self.deliveries.labels(event.endpoint, str(event.outcome)).inc()

    def measured(self, event: DeliveriesMeasured) -> None:
        figures = event.figures
        for endpoint in event.endpoints:
            waiting = [figures.oldest_pending.get(endpoint), figures.oldest_unfanned]
            oldest = min((at for at in waiting if at is not None), default=None)
            self.lag.labels(endpoint).set(0.0 if oldest is None else max(0.0, event.at - oldest))
            self.dead.labels(endpoint).set(figures.dead.get(endpoint, 0))
