"""Webhook endpoints, the delivery of each event to each, and the ports behind them.

An :class:`Endpoint` is one receiver: a URL, a ``whsec_`` secret, the
event types it wants and a name the operator pauses it by. The relay
(:mod:`referrals.application.relay`) keeps one delivery per (event,
endpoint) in :class:`Deliveries` and posts through a
:class:`WebhookPoster`; ``docs/events.md`` says what a receiver sees.
"""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from referrals.application.events import Event
from referrals.application.outbox import OutboxEvent

SECRET_PREFIX = "whsec_"  # noqa: S105 (the spec's prefix, no secret)
ALL_EVENTS = "*"
SPEC_SECRET_BYTES = (24, 64)
"""The key length, in bytes, the Standard Webhooks spec asks of a secret."""


def secret_bytes(secret: str) -> bytes:
    """The key of a ``whsec_<base64>`` secret; ``ValueError`` if it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a secret starts with {SECRET_PREFIX}")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a secret is whsec_ and base64") from exc
    if not key:
        raise ValueError("a secret is not empty")
    return key


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One receiver of webhooks (an entry of ``REFERRALS_WEBHOOKS``)."""

    name: str
    url: str
    secret: str = field(repr=False)
    """``whsec_`` and the base64 of the key (Standard Webhooks)."""
    events: frozenset[str]
    """Event types it is sent; ``*`` for all."""

    def wants(self, kind: str) -> bool:
        return ALL_EVENTS in self.events or kind in self.events


class State(enum.StrEnum):
    PENDING = "pending"
    """Not delivered yet: due at ``next_at``, or leased by a relay until then."""
    DELIVERED = "delivered"
    DEAD = "dead"
    """Retried for ``webhook_retry_for`` without success: a dead letter until replayed."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What one POST got: an HTTP status, or no answer (``error`` says why)."""

    status: int | None
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery a relay holds (leased) while it posts it."""

    delivery_id: int
    endpoint: str
    event: OutboxEvent
    attempt: int
    """1 for the first try (counts every claim, including ones a crash cut short)."""
    since: float
    """Its first attempt (since it was created or last replayed): the retry window starts."""


@dataclass(frozen=True, slots=True)
class Finished:
    """What became of one claim: its answer, and the state it leaves the delivery in."""

    claim: Claim
    answer: Answer
    state: State
    next_at: float
    """When it is due again (pending only)."""
    at: float
    """When the answer came."""


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    at: float
    status: int | None
    seconds: float
    error: str | None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    endpoint: str
    state: State
    attempts: tuple[AttemptRecord, ...]
    next_at: float | None
    """When it is tried next (pending only)."""


@dataclass(frozen=True, slots=True)
class EventReport:
    """An outbox row with what became of it at each endpoint."""

    event: OutboxEvent
    deliveries: tuple[DeliveryReport, ...]


class Deliveries(Protocol):
    """The outbox's rows fanned out into one delivery per (event, subscribed
    endpoint), and their state (``docs/events.md``).

    Safe for many relays at once: :meth:`fan_out` turns each row into
    deliveries once, and :meth:`claim` hands a delivery to one relay at a
    time (until its lease ends; then to another, which posts it again: at
    least once).
    """

    async def fan_out(self, endpoints: Sequence[Endpoint], now: float, limit: int) -> int:
        """Turn up to ``limit`` rows not yet fanned out, oldest first, into
        deliveries due ``now`` for the endpoints that want their type; the
        number of rows. Rows are fanned out in the order of the outbox."""
        ...

    async def claim(self, endpoint: str, now: float, lease: float, limit: int) -> list[Claim]:
        """Up to ``limit`` deliveries to ``endpoint`` that are due and first
        in their user's line (no earlier event of the same user pending to
        it), leased until ``now + lease``: no other claim gets them before. A
        delivery's first claim (since it was created or replayed) opens its
        retry window: :attr:`Claim.since` is ``now`` then."""
        ...

    async def finish(self, finished: Sequence[Finished]) -> None:
        """Record each one's answer as an attempt and move its delivery to its
        state (pending: due again at its ``next_at``), all in one transaction.
        A delivery that is no longer pending (another relay finished it)
        keeps its state; the attempt is recorded all the same."""
        ...

    async def paused(self) -> frozenset[str]:
        """The names of the endpoints an operator paused."""
        ...

    async def set_paused(self, endpoint: str, paused: bool) -> None: ...

    async def replay(self, since: float, endpoint: str | None, now: float) -> int:
        """Make every delivery of an event that happened at ``since`` or later
        (to ``endpoint``, or to all) pending and due ``now`` again, with a new
        retry window; the number of deliveries."""
        ...

    async def purge(self, before: float, limit: int) -> int:
        """Delete up to ``limit`` rows that happened before ``before`` and
        have nothing pending (their deliveries and attempts go too); the number."""
        ...

    async def events(self, kind: str | None, since: float | None, limit: int) -> list[EventReport]:
        """The newest ``limit`` rows (of type ``kind``, at ``since`` or later), newest first."""
        ...

    async def event(self, event_id: str) -> EventReport | None: ...

    async def dead(self, limit: int) -> list[EventReport]:
        """The newest ``limit`` rows with a dead delivery, newest first."""
        ...

    async def figures(self, now: float) -> DeliveryFigures:
        """What the metrics show: lag and dead letters per endpoint."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveryFigures:
    oldest_pending: Mapping[str, float]
    """Per endpoint, when its oldest pending event happened (absent: none)."""
    oldest_unfanned: float | None
    """When the oldest row not yet fanned out happened."""
    dead: Mapping[str, int]
    """Dead letters per endpoint."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookAttempted(Event):
    """The relay posted an event to an endpoint (for metrics: no event id, no user)."""

    endpoint: str
    outcome: State
    """Delivered, pending (to be retried) or dead."""
    status: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveriesMeasured(Event):
    """The relay's periodic look at its backlog (for the metrics' gauges)."""

    figures: DeliveryFigures
    endpoints: tuple[str, ...]
    """The endpoints configured (each gets a figure, zero when nothing waits)."""


class WebhookPoster(Protocol):
    """Posts one event to one endpoint, signed (Standard Webhooks)."""

    async def post(self, endpoint: Endpoint, event: OutboxEvent) -> Answer:
        """POST ``event.body`` to ``endpoint.url`` with ``webhook-id`` (the
        event's id: every retry carries the same), ``webhook-timestamp`` and
        ``webhook-signature``. Never raises for the receiver's failures: they
        are an :class:`Answer` without a 2xx status."""
        ...


EVENT_TYPES = frozenset(
    {
        "user.created",
        "login.succeeded",
        "referral.applied",
        "phone.changed",
        "account.deleted",
        "code.sent",
        "code.delivered",
        "delivery.failed",
        "limit.reached",
    }
)
"""The event types an endpoint may subscribe to (docs/events.md)."""


def parse_endpoints(raw: object) -> tuple[Endpoint, ...]:
    """Endpoints from decoded JSON: a list of ``{"name", "url", "secret",
    "events"}``; ``ValueError`` says what is wrong with the first bad one."""
    if not isinstance(raw, list):
        raise ValueError("a JSON list of endpoints")
    endpoints: list[Endpoint] = []
    for entry in raw:
        if not isinstance(entry, dict) or set(entry) - {"name", "url", "secret", "events"}:
            raise ValueError('each endpoint is {"name", "url", "secret", "events"}')
        name, url, secret = entry.get("name"), entry.get("url"), entry.get("secret")
        events = entry.get("events", [ALL_EVENTS])
        if not isinstance(name, str) or not 0 < len(name) <= 64:
            raise ValueError("an endpoint's name is 1 to 64 characters")
        if any(endpoint.name == name for endpoint in endpoints):
            raise ValueError(f"endpoint names are unique ({name!r} twice)")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"{name}: url is http(s)://…")
        if not isinstance(secret, str):
            raise ValueError(f"{name}: secret is whsec_ and base64")
        secret_bytes(secret)
        if not isinstance(events, list) or not events:
            raise ValueError(f'{name}: events is a list of event types, or ["*"]')
        unknown = {kind for kind in events if kind not in EVENT_TYPES | {ALL_EVENTS}}
        if unknown:
            raise ValueError(f"{name}: unknown event types {sorted(map(str, unknown))}")
        endpoints.append(Endpoint(name, url, secret, frozenset(events)))
    return tuple(endpoints)
