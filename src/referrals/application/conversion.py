"""Conversion: which channel's codes people actually use (see docs/sending-codes.md).

When a login's code is verified, its delivery record gets the ``verified``
step, and :class:`CodeVerified` names the channel that carried the code and
the phone's country: metrics and ``referrals stats`` divide these by the
codes delivered on each channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from referrals.application.errors import ServiceUnavailable
from referrals.application.events import CodeVerified
from referrals.application.ports import DeliveryLog, EventSink
from referrals.domain.delivery import DeliveryRecord, DeliveryStep, Status, Step

log = logging.getLogger("referrals.delivery")


def mark(now: float) -> DeliveryStep:
    """The step that marks a login's code used."""
    return DeliveryStep(now, Step.VERIFIED)


@dataclass(frozen=True, slots=True)
class RecordConversion:
    """Mark a login's code used; never fails the login (a store that is away loses the mark)."""

    delivery_log: DeliveryLog
    events: EventSink

    async def __call__(self, login: str, now: float) -> None:
        try:
            record = await self.delivery_log.add(login, mark(now))
        except ServiceUnavailable:
            log.warning("a login was verified, but its delivery record was not told")
            return
        await self.announce(record, now)

    async def announce(self, record: DeliveryRecord | None, now: float) -> None:
        """Publish :class:`CodeVerified` for a record marked (by :func:`mark`)."""
        if record is None or record.channel is None:  # a test phone's, or kept no longer
            return
        event = CodeVerified(
            at=now,
            channel=record.channel,
            country=record.country,
            delivered=record.status is Status.DELIVERED,
        )
        await self.events.publish(event)
