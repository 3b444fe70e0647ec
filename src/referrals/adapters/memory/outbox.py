"""The outbox in memory: the events of committed units, in commit order."""

from __future__ import annotations

from referrals.application.outbox import OutboxEvent
from referrals.domain.logins import LoginRecord


class InMemoryOutbox:
    """One unit's :class:`~referrals.application.ports.Outbox`: held until it commits."""

    def __init__(self) -> None:
        self._held: list[OutboxEvent] = []
        self._logins: list[LoginRecord] = []
        self._welcomes: list[tuple[int, OutboxEvent | None]] = []

    def welcome(self, user_id: int, created: OutboxEvent | None) -> None:
        self._welcomes.append((user_id, created))

    def take_welcomes(self) -> list[tuple[int, OutboxEvent | None]]:
        held, self._welcomes = self._welcomes, []
        return held

    def record_login(self, login: LoginRecord) -> None:
        self._logins.append(login)

    def take_logins(self) -> list[LoginRecord]:
        held, self._logins = self._logins, []
        return held

    def add(self, event: OutboxEvent) -> None:
        self._held.append(event)

    def take(self) -> list[OutboxEvent]:
        held, self._held = self._held, []
        return held


class InMemoryOutboxRows:
    """The committed events of one in-memory "database", oldest first."""

    def __init__(self) -> None:
        self.rows: list[OutboxEvent] = []
        self._ids: set[str] = set()

    def extend(self, events: list[OutboxEvent]) -> None:
        """Append ``events``; an id written before is refused (nothing appended)."""
        ids = [event.id for event in events]
        if len(set(ids)) != len(ids) or self._ids.intersection(ids):
            raise ValueError("an event id is written once")
        self.rows.extend(events)
        self._ids.update(ids)

    def forget(self, user_ids: list[int]) -> None:
        """Drop the events of these users (their accounts were deleted)."""
        if user_ids:
            gone = set(user_ids)
            self.rows = [row for row in self.rows if row.user_id not in gone]
