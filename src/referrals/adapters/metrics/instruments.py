"""Every metric of the service, with bounded labels only (no phone, no id)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from referrals.adapters.metrics.webhooks import WebhookMetrics

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DELIVERY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
DEPENDENCIES = {"the database": "database", "Redis": "redis", "the task queue": "queue"}
"""``ServiceUnavailable.what`` -> the ``dependency`` label."""


class Metrics:
    """The instruments, registered in ``registry`` (one per app, so tests can
    build many apps in one process). Under ``PROMETHEUS_MULTIPROC_DIR`` each
    process writes its values to files there instead, and a scrape sums them."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "referrals_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "referrals_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.codes_requested = Counter(
            "referrals_codes_requested", "Login codes granted and queued for delivery", registry=r
        )
        self.codes_sent = Counter(
            "referrals_codes_sent",
            "Deliveries of queued codes by SMS gateway and outcome"
            " (sent, stale, duplicate, busy, failed)",
            ["gateway", "outcome"],
            registry=r,
        )
        self.delivery_seconds = Histogram(
            "referrals_code_delivery_seconds",
            "From the login request to the SMS gateway accepting its code (measured where"
            " codes are sent: the worker, or the API with the in-process queue)",
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.verifications = Counter(
            "referrals_verifications",
            "Code verifications by outcome (success, code_invalid, challenge_expired,"
            " rate_limited)",
            ["outcome"],
            registry=r,
        )
        self.throttled = Counter(
            "referrals_pumping_throttled",
            "Logins whose group conversion-driven throttling judged throttled, by the"
            " group's kind and the mode (enforce refused them, shadow only counts)",
            ["kind", "mode"],
            registry=r,
        )
        self.rate_limited = Counter(
            "referrals_rate_limited",
            "Requests refused by a rate limit, by the limit's name and the action refused",
            ["limit", "action"],
            registry=r,
        )
        self.referrals_applied = Counter(
            "referrals_referrals_applied", "Invite codes applied", registry=r
        )
        self.referrals_refused = Counter(
            "referrals_referrals_refused",
            "Invite codes refused by a rule, by reason",
            ["reason"],
            registry=r,
        )
        self.referral_decisions = Counter(
            "referrals_referral_decisions",
            "Referral integrity decisions (applied, held, refused, approved, voided),"
            " once per signal that made them (none: no signal)",
            ["decision", "signal"],
            registry=r,
        )
        self.users_created = Counter("referrals_users_created", "Users created", registry=r)
        self.channel_failures = Counter(
            "referrals_channel_failures",
            "Tries of a channel that did not take a code, by channel and reason (transient,"
            " unreachable, permanent, insufficient_balance: alert on the last)",
            ["channel", "reason"],
            registry=r,
        )
        self.deliveries = Counter(
            "referrals_deliveries",
            "Login codes by route, channel and outcome: sent (the provider took it),"
            " delivered and failed (its receipt said so), delivery_failed (every channel"
            " of the route failed; channel none)",
            ["route", "channel", "outcome"],
            registry=r,
        )
        self.receipt_seconds = Histogram(
            "referrals_receipt_seconds",
            "From a channel taking a code to its receipt saying delivered, by channel",
            ["channel"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.codes_delivered = Counter(
            "referrals_codes_delivered",
            "Codes a receipt said were delivered, by channel and country",
            ["channel", "country"],
            registry=r,
        )
        self.codes_verified = Counter(
            "referrals_codes_verified",
            "Logins verified, by the channel that carried the code and the country;"
            " conversion is this over referrals_codes_delivered",
            ["channel", "country"],
            registry=r,
        )
        self.dependency_errors = Counter(
            "referrals_dependency_errors",
            "Requests and deliveries that failed because a dependency was unavailable",
            ["dependency"],
            registry=r,
        )
        self.webhooks = WebhookMetrics(r)

    def dependency_failed(self, what: str) -> None:
        """Count a ``ServiceUnavailable`` by the dependency it names."""
        self.dependency_errors.labels(DEPENDENCIES.get(what, "other")).inc()
