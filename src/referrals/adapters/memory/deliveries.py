"""Webhook deliveries in memory, over the events of an in-memory outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from referrals.adapters.memory.outbox import InMemoryOutboxRows
from referrals.application.outbox import OutboxEvent
from referrals.application.webhooks import (
    AttemptRecord,
    Claim,
    DeliveryFigures,
    DeliveryReport,
    Endpoint,
    EventReport,
    Finished,
    State,
)


@dataclass(slots=True)
class _Delivery:
    id: int
    seq: int
    endpoint: str
    state: State
    next_at: float
    since: float
    attempts: int = 0
    tried: list[AttemptRecord] = field(default_factory=list)


class InMemoryDeliveries:
    """A :class:`~referrals.application.webhooks.Deliveries` on ``outbox``'s rows
    (one process: the event loop makes each method atomic)."""

    def __init__(self, outbox: InMemoryOutboxRows) -> None:
        self._outbox = outbox
        self._fanned = 0
        """Rows fanned out: ``outbox.rows[:_fanned]``."""
        self._purged: set[int] = set()
        """Rows deleted (a row's seq is its index in ``outbox.rows``, which keeps them)."""
        self._deliveries: dict[int, _Delivery] = {}
        self._numbered = 0
        self._paused: set[str] = set()

    def _row(self, seq: int) -> OutboxEvent:
        return self._outbox.rows[seq]

    async def fan_out(self, endpoints: Sequence[Endpoint], now: float, limit: int) -> int:
        rows = self._outbox.rows[self._fanned :][:limit]
        for row in rows:
            for endpoint in endpoints:
                if endpoint.wants(row.type):
                    self._numbered += 1
                    number = self._numbered
                    self._deliveries[number] = _Delivery(
                        number, self._fanned, endpoint.name, State.PENDING, now, now
                    )
            self._fanned += 1
        return len(rows)

    def _first_in_line(self, delivery: _Delivery) -> bool:
        user = self._row(delivery.seq).user_id
        if user is None:
            return True
        return not any(
            other.endpoint == delivery.endpoint
            and other.state is State.PENDING
            and other.seq < delivery.seq
            and self._row(other.seq).user_id == user
            for other in self._deliveries.values()
        )

    async def claim(self, endpoint: str, now: float, lease: float, limit: int) -> list[Claim]:
        due = sorted(
            (
                d
                for d in self._deliveries.values()
                if d.endpoint == endpoint and d.state is State.PENDING and d.next_at <= now
            ),
            key=lambda d: (d.next_at, d.seq),
        )
        claims: list[Claim] = []
        for delivery in due:
            if len(claims) == limit:
                break
            if not self._first_in_line(delivery):
                continue
            if delivery.attempts == 0:  # the retry window opens at the first attempt
                delivery.since = now
            delivery.attempts += 1
            delivery.next_at = now + lease
            claims.append(
                Claim(
                    delivery.id,
                    endpoint,
                    self._row(delivery.seq),
                    delivery.attempts,
                    delivery.since,
                )
            )
        return claims

    async def finish(self, finished: Sequence[Finished]) -> None:
        for done in finished:
            delivery = self._deliveries.get(done.claim.delivery_id)
            if delivery is None:
                continue
            answer = done.answer
            delivery.tried.append(
                AttemptRecord(done.at, answer.status, answer.seconds, answer.error)
            )
            if delivery.state is State.PENDING:
                delivery.state, delivery.next_at = done.state, done.next_at

    async def paused(self) -> frozenset[str]:
        return frozenset(self._paused)

    async def set_paused(self, endpoint: str, paused: bool) -> None:
        if paused:
            self._paused.add(endpoint)
        else:
            self._paused.discard(endpoint)

    async def replay(self, since: float, endpoint: str | None, now: float) -> int:
        count = 0
        for delivery in self._deliveries.values():
            if self._row(delivery.seq).at >= since and endpoint in (None, delivery.endpoint):
                delivery.state, delivery.next_at, delivery.since = State.PENDING, now, now
                delivery.attempts = 0
                count += 1
        return count

    async def purge(self, before: float, limit: int) -> int:
        unsettled = {d.seq for d in self._deliveries.values() if d.state is not State.DELIVERED}
        doomed = [
            seq
            for seq in range(self._fanned)
            if seq not in self._purged and seq not in unsettled and self._row(seq).at < before
        ][:limit]
        self._purged.update(doomed)
        for number in [n for n, d in self._deliveries.items() if d.seq in self._purged]:
            del self._deliveries[number]
        return len(doomed)

    def _report(self, seq: int) -> EventReport:
        deliveries = tuple(
            DeliveryReport(
                d.endpoint,
                d.state,
                tuple(d.tried),
                d.next_at if d.state is State.PENDING else None,
            )
            for d in self._deliveries.values()
            if d.seq == seq
        )
        return EventReport(self._row(seq), deliveries)

    def _seqs(self) -> list[int]:
        """Every row's seq, newest first."""
        every = range(len(self._outbox.rows) - 1, -1, -1)
        return [seq for seq in every if seq not in self._purged]

    async def events(self, kind: str | None, since: float | None, limit: int) -> list[EventReport]:
        found = [
            seq
            for seq in self._seqs()
            if kind in (None, self._row(seq).type) and (since is None or self._row(seq).at >= since)
        ]
        return [self._report(seq) for seq in found[:limit]]

    async def event(self, event_id: str) -> EventReport | None:
        for seq in self._seqs():
            if self._row(seq).id == event_id:
                return self._report(seq)
        return None

    async def dead(self, limit: int) -> list[EventReport]:
        dead = {d.seq for d in self._deliveries.values() if d.state is State.DEAD}
        return [self._report(seq) for seq in self._seqs() if seq in dead][:limit]

    async def figures(self, now: float) -> DeliveryFigures:
        oldest: dict[str, float] = {}
        dead: dict[str, int] = {}
        for d in self._deliveries.values():
            if d.state is State.PENDING:
                at = self._row(d.seq).at
                oldest[d.endpoint] = min(oldest.get(d.endpoint, at), at)
            elif d.state is State.DEAD:
                dead[d.endpoint] = dead.get(d.endpoint, 0) + 1
        unfanned = self._outbox.rows[self._fanned :]
        return DeliveryFigures(oldest, unfanned[0].at if unfanned else None, dead)
