"""The activity an operator sees in ``referrals stats``: codes sent and logins,
counted by the hour in an :class:`~referrals.application.ports.ActivityLog`.

:class:`CountingEvents` counts codes sent and delivered from the events the
use cases publish anyway (:class:`CodeSent` and :class:`CodeDelivered` in
whichever process delivers codes), then hands each event on to the host's
hooks. Logins verified (:data:`CODE_VERIFIED`) are counted by the login's
completion instead (``LoginCompletion``), only by the caller that consumed
the login and in the same step on one Redis server, so their
``LoginSucceeded`` and ``CodeVerified`` are not counted again.
Codes sent, delivered and verified are counted per channel too (for the
conversion by channel). Counting never fails the action: a store that is
down loses the count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from referrals.application.errors import ServiceUnavailable
from referrals.application.events import CodeDelivered, CodeSent, Event
from referrals.application.ports import ActivityLog, EventSink

log = logging.getLogger("referrals.activity")

HOUR = 3600.0
KEEP_HOURS = 36
"""Hourly buckets are kept this long: a day back from any hour, and some margin."""

CODE_SENT = "code_sent"
CODE_VERIFIED = "code_verified"

CODE_DELIVERED = "code_delivered"

COUNTED: dict[type[Event], str] = {CodeSent: CODE_SENT}
BY_CHANNEL: dict[type[Event], str] = {CodeSent: CODE_SENT, CodeDelivered: CODE_DELIVERED}
"""Events also counted per channel, as ``{name}:{channel}`` (conversion by channel)."""


def per_channel(name: str, channel: str) -> str:
    """The activity name of ``name`` on one channel (``code_sent:telegram``)."""
    return f"{name}:{channel}"


def counted_names(event: Event) -> list[str]:
    """What ``event`` counts towards: its total, and its channel's."""
    names = [COUNTED[type(event)]] if type(event) in COUNTED else []
    channel = getattr(event, "channel", "")
    if type(event) in BY_CHANNEL and channel:
        names.append(per_channel(BY_CHANNEL[type(event)], channel))
    return names


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
        for name in counted_names(event):
            try:
                await self.activity.add(name, event.at)
            except ServiceUnavailable:
                log.warning("could not count a %s: %s is unavailable", name, "the activity store")
        await self.hooks.publish(event)
