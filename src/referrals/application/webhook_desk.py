"""WebhookDesk: what an operator does with the outbox and the endpoints
(``referrals events …``, ``referrals endpoints …``; docs/events.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from referrals.application.ports import Clock
from referrals.application.webhooks import Deliveries, Endpoint, EventReport
from referrals.domain.errors import InvalidInput

MAX_LISTED = 1_000


@dataclass(frozen=True, slots=True)
class EndpointState:
    endpoint: Endpoint
    paused: bool


@dataclass(frozen=True, slots=True)
class WebhookDesk:
    """Look at events and their deliveries, replay them, pause endpoints."""

    deliveries: Deliveries
    endpoints: Sequence[Endpoint]
    clock: Clock

    def _known(self, name: str) -> str:
        if name not in {endpoint.name for endpoint in self.endpoints}:
            known = ", ".join(e.name for e in self.endpoints) or "none (REFERRALS_WEBHOOKS)"
            raise InvalidInput("endpoint", f"No endpoint is named {name!r}; known: {known}.")
        return name

    @staticmethod
    def _limit(limit: int) -> int:
        if not 0 < limit <= MAX_LISTED:
            raise InvalidInput("limit", f"--limit must be 1 to {MAX_LISTED}.")
        return limit

    async def events(self, kind: str | None, since: float | None, limit: int) -> list[EventReport]:
        """The newest events (of ``kind``, since ``since``), newest first."""
        return await self.deliveries.events(kind, since, self._limit(limit))

    async def event(self, event_id: str) -> EventReport:
        report = await self.deliveries.event(event_id)
        if report is None:
            raise InvalidInput("id", f"No event has the id {event_id!r} (or it was purged).")
        return report

    async def dead(self, limit: int) -> list[EventReport]:
        """The newest events with a dead delivery, newest first."""
        return await self.deliveries.dead(self._limit(limit))

    async def replay(self, since: float, endpoint: str | None) -> int:
        """Send every event since ``since`` again (to ``endpoint`` or all); how many deliveries."""
        name = None if endpoint is None else self._known(endpoint)
        return await self.deliveries.replay(since, name, self.clock.now())

    async def pause(self, endpoint: str, paused: bool) -> EndpointState:
        """Pause (or resume) sending to ``endpoint``; its events wait, none is lost."""
        name = self._known(endpoint)
        await self.deliveries.set_paused(name, paused)
        return next(EndpointState(e, paused) for e in self.endpoints if e.name == name)

    async def states(self) -> list[EndpointState]:
        paused = await self.deliveries.paused()
        return [EndpointState(e, e.name in paused) for e in self.endpoints]
