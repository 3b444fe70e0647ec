"""The webhooks' metrics: deliveries by endpoint and outcome, lag and dead
letters per endpoint (docs/events.md, docs/operations.md)."""

from referrals.adapters.metrics.events import MetricsSink
from referrals.adapters.metrics.instruments import Metrics
from referrals.application.events import Hooks
from referrals.application.webhooks import (
    DeliveriesMeasured,
    DeliveryFigures,
    State,
    WebhookAttempted,
)


async def test_deliveries_are_counted_and_the_backlog_is_shown_per_endpoint() -> None:
    metrics = Metrics()
    sink = MetricsSink(metrics, Hooks(), gateway="console")
    for outcome in (State.DELIVERED, State.DELIVERED, State.PENDING, State.DEAD):
        await sink.publish(WebhookAttempted(at=1.0, endpoint="shop", outcome=outcome, status=None))
    figures = DeliveryFigures({"shop": 900.0}, 950.0, {"shop": 3})
    await sink.publish(DeliveriesMeasured(at=1000.0, figures=figures, endpoints=("shop", "crm")))
    sample = metrics.registry.get_sample_value
    deliveries = "referrals_webhook_deliveries_total"
    assert sample(deliveries, {"endpoint": "shop", "outcome": "delivered"}) == 2
    assert sample(deliveries, {"endpoint": "shop", "outcome": "pending"}) == 1
    assert sample(deliveries, {"endpoint": "shop", "outcome": "dead"}) == 1
    assert sample("referrals_webhook_lag_seconds", {"endpoint": "shop"}) == 100.0
    assert sample("referrals_webhook_lag_seconds", {"endpoint": "crm"}) == 50.0  # not fanned out
    assert sample("referrals_webhook_dead_letters", {"endpoint": "shop"}) == 3
    assert sample("referrals_webhook_dead_letters", {"endpoint": "crm"}) == 0
