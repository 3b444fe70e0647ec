"""Events that leave the process: rows of an outbox, written with the change itself.

A use case that changes state adds its event to the unit of work's
:class:`~referrals.application.ports.Outbox` before it commits, so the
event is stored if and only if the change is (see ``docs/events.md``).
The relay (:mod:`referrals.application.relay`) later posts each row to the
webhook endpoints subscribed to its type.

:data:`EXPORTED` says which in-process events are exported and under what
type; adding one is a line there (and a JSON Schema in ``schemas/``). The
payload (``data``) is the event's fields but ``at``, with ``version``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from referrals.application.errors import ServiceUnavailable
from referrals.application.events import (
    AccountDeleted,
    CodeDelivered,
    CodeSent,
    CodeUndeliverable,
    Event,
    LimitReached,
    LoginSucceeded,
    PhoneChanged,
    ReferralApplied,
    UserCreated,
)
from referrals.application.ports import EventSink, UnitOfWork, UnitOfWorkFactory
from referrals.domain.logins import LoginRecord

log = logging.getLogger("referrals.outbox")

PAYLOAD_VERSION = 1
"""The version of every payload's shape; raised when a field changes meaning
or goes away (adding a field keeps it)."""

EXPORTED: dict[type[Event], str] = {
    UserCreated: "user.created",
    LoginSucceeded: "login.succeeded",
    ReferralApplied: "referral.applied",
    CodeSent: "code.sent",
    CodeDelivered: "code.delivered",
    CodeUndeliverable: "delivery.failed",
    LimitReached: "limit.reached",
    AccountDeleted: "account.deleted",
    PhoneChanged: "phone.changed",
}
"""The events written to the outbox, by their exported type name."""

STATE_CHANGES = frozenset(
    {"user.created", "login.succeeded", "referral.applied", "account.deleted", "phone.changed"}
)
"""Types written by the use case in the unit of work of their change; the
others (no state change) are written by :class:`OutboxEvents` when some
endpoint subscribes to them."""


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One row of the outbox: what the relay posts, as it posts it."""

    id: str
    """A UUIDv7: unique forever, ordered by time; the ``webhook-id`` of every delivery."""
    type: str
    at: float
    """When it happened (seconds since the epoch)."""
    user_id: int | None
    """Whose event it is; the relay keeps each user's events in order."""
    data: dict[str, Any]

    @property
    def body(self) -> dict[str, Any]:
        """The webhook body: ``{"type", "timestamp", "data"}``."""
        return {"type": self.type, "timestamp": timestamp(self.at), "data": self.data}


def schema_of(kind: str) -> dict[str, Any]:
    """The JSON Schema of the webhook body of events of type ``kind``
    (shipped in the package: ``referrals/schemas/events/<kind>.json``)."""
    if kind not in EXPORTED.values():
        raise KeyError(kind)
    path = resources.files("referrals") / "schemas" / "events" / f"{kind}.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def timestamp(at: float) -> str:
    """RFC 3339 in UTC with milliseconds (``2026-12-07T06:51:43.123Z``)."""
    moment = datetime.fromtimestamp(at, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_id(at: float) -> str:
    """A UUIDv7 (RFC 9562) for an event at ``at``: 48 bits of milliseconds, 74 random."""
    rand = secrets.randbits(74)
    value = (int(at * 1000) & (2**48 - 1)) << 80
    value |= 0x7 << 76 | (rand >> 62) << 64 | 0b10 << 62 | (rand & (2**62 - 1))
    return str(uuid.UUID(int=value))


def exported(event: Event) -> OutboxEvent | None:
    """The outbox row of ``event``, or ``None`` if its kind is not exported."""
    kind = EXPORTED.get(type(event))
    if kind is None:
        return None
    data: dict[str, Any] = {"version": PAYLOAD_VERSION}
    for spec in dataclasses.fields(event):
        if spec.name != "at":
            value = getattr(event, spec.name)
            data[spec.name] = list(value) if isinstance(value, tuple) else value  # JSON's shape
    user_id = data.get("user_id")
    return OutboxEvent(
        id=event_id(event.at),
        type=kind,
        at=event.at,
        user_id=user_id if isinstance(user_id, int) else None,
        data=data,
    )


def rows(events: Iterable[Event]) -> list[OutboxEvent]:
    """The outbox rows of the exported ones among ``events``."""
    return [row for row in map(exported, events) if row is not None]


@dataclass(frozen=True, slots=True)
class OutboxEvents:
    """An :class:`~referrals.application.ports.EventSink` that writes the
    events that change no state (``code.sent``, ``limit.reached``…) to the
    outbox, each in a unit of its own, then hands every event on to ``then``.

    Only the types in ``wanted`` are written (those some endpoint subscribes
    to): a flood of refused logins costs no rows nobody reads. A database
    that is down loses the row (logged); the action stands.
    """

    unit_of_work: UnitOfWorkFactory
    wanted: frozenset[str]
    then: EventSink
    """The next sink."""

    async def publish(self, event: Event) -> None:
        kind = EXPORTED.get(type(event))
        if kind is not None and kind in self.wanted and kind not in STATE_CHANGES:
            await write(self.unit_of_work, [event])
        await self.then.publish(event)


def stage(uow: UnitOfWork, events: Iterable[Event]) -> None:
    """Add ``events``' rows to ``uow``'s outbox: written if and only if it commits."""
    for row in rows(events):
        uow.outbox.add(row)


async def write(
    unit_of_work: UnitOfWorkFactory, events: Iterable[Event], logins: Iterable[LoginRecord] = ()
) -> bool:
    """Write ``events``' rows (and ``logins`` to the login history) in a unit
    of their own (one round trip on PostgreSQL); ``False`` (logged) when the
    database is unavailable."""
    try:
        async with unit_of_work() as uow:
            stage(uow, events)
            for login in logins:
                uow.outbox.record_login(login)
            await uow.commit()
    except ServiceUnavailable:
        log.warning("an event was not written to the outbox: the database is unavailable")
        return False
    return True
