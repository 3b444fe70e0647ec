"""Relay: the outbox's events posted to the webhook endpoints (``docs/events.md``).

:meth:`Relay.fan_out` turns new outbox rows into one delivery per
subscribed endpoint; :meth:`Relay.send` posts one endpoint's due
deliveries. Each endpoint is sent by a loop of its own
(:mod:`referrals.entrypoints.relay`), so a slow or failing receiver holds
up nobody else. A failure is retried with exponential backoff and jitter
until ``retry_for`` seconds have passed since the delivery became
pending; then it is dead, until an operator replays it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from referrals.application.events import Hooks
from referrals.application.ports import Clock, EventSink
from referrals.application.webhooks import (
    Answer,
    Claim,
    Deliveries,
    DeliveriesMeasured,
    Endpoint,
    Finished,
    State,
    WebhookAttempted,
    WebhookPoster,
)

log = logging.getLogger("referrals.relay")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds before the next try: ``first`` doubled per attempt, at most
    ``limit``, drawn uniformly from its upper half (jitter)."""

    first: float
    limit: float

    def delay(self, attempt: int, draw: Callable[[float, float], float]) -> float:
        ceiling = min(self.limit, self.first * 2 ** min(attempt - 1, 62))
        return draw(ceiling / 2, ceiling)


@dataclass(frozen=True, slots=True)
class Sent:
    """What one :meth:`Relay.send` did, by outcome."""

    endpoint: str
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    answers: tuple[tuple[State, Answer], ...] = ()

    @property
    def total(self) -> int:
        return self.delivered + self.retried + self.dead


@dataclass(frozen=True, slots=True)
class Relay:
    """Fan-out and sending of webhooks, for any number of relays at once."""

    deliveries: Deliveries
    poster: WebhookPoster
    endpoints: Sequence[Endpoint]
    clock: Clock
    retry_for: float
    """Seconds a delivery is retried before it is dead (``webhook_retry_for``)."""
    backoff: Backoff
    lease: float
    """Seconds a claim holds a delivery; longer than one POST may take."""
    batch: int
    concurrency: int
    """POSTs under way at once to one endpoint (and so database connections
    the batch's answers wait for: none, they are recorded together)."""
    events: EventSink = field(default_factory=Hooks)
    """Where :class:`WebhookAttempted` and :class:`DeliveriesMeasured` go (the metrics)."""
    draw: Callable[[float, float], float] = field(default=random.uniform)

    async def fan_out(self) -> int:
        """Fan out one batch of new outbox rows; how many."""
        if not self.endpoints:
            return 0
        return await self.deliveries.fan_out(self.endpoints, self.clock.now(), self.batch)

    async def send(self, endpoint: Endpoint) -> Sent:
        """Post ``endpoint``'s due deliveries (one batch, concurrently: at most
        one per user, so each user's events arrive in order)."""
        if endpoint.name in await self.deliveries.paused():
            return Sent(endpoint.name)
        now = self.clock.now()
        claims = await self.deliveries.claim(endpoint.name, now, self.lease, self.batch)
        if not claims:
            return Sent(endpoint.name)
        gate = asyncio.Semaphore(self.concurrency)
        finished = await asyncio.gather(*(self._post(endpoint, claim, gate) for claim in claims))
        await self.deliveries.finish(finished)  # one transaction for the batch
        for done in finished:
            attempted = WebhookAttempted(
                at=done.at, endpoint=endpoint.name, outcome=done.state, status=done.answer.status
            )
            await self.events.publish(attempted)
        outcomes = tuple((done.state, done.answer) for done in finished)
        states = [state for state, _ in outcomes]
        return Sent(
            endpoint.name,
            delivered=states.count(State.DELIVERED),
            retried=states.count(State.PENDING),
            dead=states.count(State.DEAD),
            answers=outcomes,
        )

    async def _post(self, endpoint: Endpoint, claim: Claim, gate: asyncio.Semaphore) -> Finished:
        async with gate:
            answer = await self.poster.post(endpoint, claim.event)
        now = self.clock.now()
        if answer.ok:
            state, next_at = State.DELIVERED, now
        else:
            deadline = claim.since + self.retry_for
            state = State.DEAD if now >= deadline else State.PENDING
            next_at = min(now + self.backoff.delay(claim.attempt, self.draw), deadline)
            if state is State.DEAD:
                log.warning(
                    "webhook %s to %s is dead after %d attempts (last: %s)",
                    claim.event.id,
                    endpoint.name,
                    claim.attempt,
                    answer.status or answer.error,
                )
        return Finished(claim, answer, state, next_at, now)

    async def replay(self, since: float, endpoint: str | None = None) -> int:
        """Send every event since ``since`` again (dead letters included)."""
        return await self.deliveries.replay(since, endpoint, self.clock.now())

    async def measure(self) -> None:
        """Publish the backlog's figures (:class:`DeliveriesMeasured`)."""
        now = self.clock.now()
        figures = await self.deliveries.figures(now)
        names = tuple(endpoint.name for endpoint in self.endpoints)
        await self.events.publish(DeliveriesMeasured(at=now, figures=figures, endpoints=names))

    async def purge(self, keep: float, limit: int) -> int:
        """Delete up to ``limit`` rows older than ``keep`` seconds with nothing pending."""
        return await self.deliveries.purge(self.clock.now() - keep, limit)
