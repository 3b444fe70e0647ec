"""Delivery receipts: a provider's word on whether a login's code reached the phone.

Each provider calls back in its own shape and signs it its own way; a
:class:`ReceiptReader` per channel (an adapter) checks the signature and
reads the body into :class:`Receipt` values. :class:`RecordReceipts` adds
each to its login's delivery record: a "delivered" receipt ends the wait
for it (the route's follow-up then sends nothing more), and the events it
publishes feed the metrics. See docs/sending-codes.md.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from referrals.application.errors import ReceiptRefused
from referrals.application.events import CodeDelivered, CodeUndelivered, Hooks
from referrals.application.ports import Clock, DeliveryLog, EventSink
from referrals.domain.delivery import DeliveryRecord, DeliveryStep, Step

log = logging.getLogger("referrals.delivery")


class ReceiptStatus(enum.StrEnum):
    """Where a provider says the message is; every provider's own words map to one."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Receipt:
    """One message's status, as a provider reported it."""

    message_id: str
    """The provider's id of the message (as the gateway got it when sending)."""
    status: ReceiptStatus
    login: str | None = None
    """The login, when the provider echoes the key we sent with the message."""
    detail: str = ""
    """The provider's own word for it (``undelivered``, ``103``…), for operators."""


@dataclass(frozen=True, slots=True)
class Callback:
    """A provider's call to a receipt endpoint, as it came."""

    url: str
    """The full URL the provider called (what some providers sign)."""
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes
    key: str = field(default="", repr=False)
    """The secret given in the URL, for providers that sign nothing."""


@dataclass(frozen=True, slots=True)
class Receipts:
    """What one callback said, and the answer its provider expects back."""

    receipts: tuple[Receipt, ...]
    reply: str = "OK"


class ReceiptReader(Protocol):
    """Checks one provider's callbacks and reads them (an adapter per channel)."""

    def read(self, callback: Callback, now: float) -> Receipts:
        """The receipts in ``callback``.

        Raises :class:`~referrals.application.errors.ReceiptRefused` when
        the signature (or the URL's secret) does not match, or is too old,
        and :class:`~referrals.domain.errors.InvalidInput` for a signed body
        that cannot be read.
        """
        ...


STEPS = {
    ReceiptStatus.QUEUED: Step.RECEIPT,
    ReceiptStatus.SENT: Step.RECEIPT,
    ReceiptStatus.DELIVERED: Step.DELIVERED,
    ReceiptStatus.FAILED: Step.UNDELIVERED,
}


@dataclass(frozen=True, slots=True)
class RecordReceipts:
    """Add a provider's receipts to their logins' delivery records.

    ``readers`` holds a reader per channel that takes receipts; a callback
    for any other channel is refused. A receipt whose message is unknown
    (kept no longer, or never ours) or whose channel never carried the
    login's code changes nothing; a final receipt (delivered, failed) that
    repeats one already recorded is dropped, so a provider's retries count
    once.
    """

    readers: Mapping[str, ReceiptReader]
    delivery_log: DeliveryLog
    clock: Clock
    events: EventSink = field(default_factory=Hooks)

    async def __call__(self, channel: str, callback: Callback) -> str:
        """Record the callback's receipts; the answer the provider expects."""
        reader = self.readers.get(channel)
        if reader is None:
            raise ReceiptRefused(ReceiptRefused.not_taken, channel=channel)
        read = reader.read(callback, self.clock.now())
        for receipt in read.receipts:
            await self._record(channel, receipt)
        return read.reply

    async def _record(self, channel: str, receipt: Receipt) -> None:
        login = receipt.login or await self.delivery_log.login_of(channel, receipt.message_id)
        record = await self.delivery_log.get(login) if login else None
        if login is None or record is None or channel not in record.sent_channels:
            log.info("a %s receipt for a message we do not know: ignored", channel)
            return
        step = STEPS[receipt.status]
        if step is not Step.RECEIPT and record.time_of(step, channel) is not None:
            return
        now = self.clock.now()
        detail = str(receipt.status) if step is Step.RECEIPT else receipt.detail
        await self.delivery_log.add(login, DeliveryStep(now, step, channel, detail))
        if step is Step.DELIVERED:
            await self.events.publish(_delivered(record, channel, now))
        elif step is Step.UNDELIVERED:
            event = CodeUndelivered(
                at=now, channel=channel, country=record.country, route=",".join(record.route)
            )
            await self.events.publish(event)


def _delivered(record: DeliveryRecord, channel: str, now: float) -> CodeDelivered:
    sent_at = record.time_of(Step.SENT, channel)
    return CodeDelivered(
        at=now,
        channel=channel,
        country=record.country,
        route=",".join(record.route),
        seconds=None if sent_at is None else max(0.0, now - sent_at),
    )
