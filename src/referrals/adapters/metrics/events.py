"""The event sink that counts what the use cases publish, then hands each
event on to the host's sink (hooks keep working with metrics on)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from referrals.adapters.metrics.instruments import Metrics
from referrals.application.events import (
    ChannelFailed,
    CodeDelivered,
    CodeNotSent,
    CodeQueued,
    CodeSent,
    CodeUndeliverable,
    CodeUndelivered,
    CodeVerified,
    Event,
    LimitReached,
    LoginSucceeded,
    ReferralApplied,
    ReferralDecided,
    ReferralRefused,
    SendThrottled,
    UserCreated,
    VerificationFailed,
)
from referrals.application.ports import EventSink
from referrals.application.webhooks import DeliveriesMeasured, WebhookAttempted


class MetricsSink:
    """An :class:`~referrals.application.ports.EventSink`: counts, then ``inner``."""

    def __init__(self, metrics: Metrics, inner: EventSink, *, gateway: str) -> None:
        self.metrics = metrics
        self.inner = inner
        m = metrics
        sent = m.codes_sent.labels(gateway, "sent")
        success = m.verifications.labels("success")
        self._count: dict[type[Event], Callable[[Any], None]] = {
            CodeQueued: lambda _: m.codes_requested.inc(),
            ChannelFailed: lambda e: m.channel_failures.labels(e.channel, e.reason).inc(),
            CodeSent: lambda e: _sent(m, sent, e),
            CodeNotSent: lambda e: _not_sent(m, gateway, e),
            LoginSucceeded: lambda _: success.inc(),
            VerificationFailed: lambda e: m.verifications.labels(e.reason).inc(),
            LimitReached: lambda e: _limited(m, e),
            SendThrottled: lambda e: m.throttled.labels(e.kind, e.mode).inc(),
            ReferralApplied: lambda _: m.referrals_applied.inc(),
            ReferralRefused: lambda e: m.referrals_refused.labels(e.reason).inc(),
            ReferralDecided: lambda e: _decided(m, e),
            UserCreated: lambda _: m.users_created.inc(),
            WebhookAttempted: m.webhooks.attempted,
            DeliveriesMeasured: m.webhooks.measured,
            CodeDelivered: lambda e: _delivered(m, e),
            CodeUndelivered: lambda e: m.deliveries.labels(e.route, e.channel, "failed").inc(),
            CodeUndeliverable: lambda e: _route_failed(m, e),
            CodeVerified: lambda e: m.codes_verified.labels(e.channel, e.country).inc(),
        }

    async def publish(self, event: Event) -> None:
        count = self._count.get(type(event))
        if count is not None:
            count(event)
        await self.inner.publish(event)


def _sent(metrics: Metrics, sent: Any, event: CodeSent) -> None:
    sent.inc()
    if event.channel:
        metrics.deliveries.labels(event.route, event.channel, "sent").inc()
    if event.requested_at is not None:
        metrics.delivery_seconds.observe(max(0.0, event.at - event.requested_at))


def _delivered(metrics: Metrics, event: CodeDelivered) -> None:
    metrics.deliveries.labels(event.route, event.channel, "delivered").inc()
    metrics.codes_delivered.labels(event.channel, event.country).inc()
    if event.seconds is not None:
        metrics.receipt_seconds.labels(event.channel).observe(event.seconds)


def _decided(metrics: Metrics, event: ReferralDecided) -> None:
    for signal in event.signals or ("none",):
        metrics.referral_decisions.labels(event.decision, signal).inc()


def _route_failed(metrics: Metrics, event: CodeUndeliverable) -> None:
    metrics.deliveries.labels(event.route, "none", "delivery_failed").inc()


def _not_sent(metrics: Metrics, gateway: str, event: CodeNotSent) -> None:
    metrics.codes_sent.labels(gateway, event.outcome).inc()
    if event.unavailable is not None:
        metrics.dependency_failed(event.unavailable)


def _limited(metrics: Metrics, event: LimitReached) -> None:
    metrics.rate_limited.labels(event.limit or "unknown", event.action).inc()
    if event.action == "verify":
        metrics.verifications.labels("rate_limited").inc()
