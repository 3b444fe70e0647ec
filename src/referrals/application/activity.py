"""The activity an operator sees in ``referrals stats``: codes sent and logins,
counted by the hour in an :class:`~referrals.application.ports.ActivityLog`.

:class:`CountingEvents` counts them from the events the use cases publish
anyway (:class:`CodeSent` in whichever process delivers codes,
:class:`LoginSucceeded` in the API), then hands each event on to the host's
hooks. Counting never fails the action: a store that is down loses the count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from referrals.application.errors import ServiceUnavailable
from referrals.application.events import CodeSent, Event, LoginSucceeded
from referrals.application.ports import ActivityLog, EventSink

log = logging.getLogger("referrals.activity")

HOUR = 3600.0
KEEP_HOURS = 36
"""Hourly buckets are kept this long: a day back from any hour, and some margin."""

CODE_SENT = "code_sent"
CODE_VERIFIED = "code_verified"

COUNTED: dict[type[Event], str] = {CodeSent: CODE_SENT, LoginSucceeded: CODE_VERIFIED}


def hours(since: float, until: float) -> range:
    """The hour buckets (hours since the epoch) from ``since``'s to ``until``'s."""
    return range(int(since // HOUR), int(until // HOUR) + 1)


@dataclass(frozen=True, slots=True)
class CountingEvents:
    """An :class:`EventSink` that counts the events of :data:`COUNTED`, then
    passes every event to ``hooks``."""

    activity: ActivityLog
    hooks: EventSink

    async def publish(self, event: Event) -> None:
        name = COUNTED.get(type(event))
        if name is not None:
            try:
                await self.activity.add(name, event.at)
            except ServiceUnavailable:
                log.warning("could not count a %s: %s is unavailable", name, "the activity store")
        await self.hooks.publish(event)
