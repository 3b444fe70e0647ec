"""DeliverCode: the worker's side of a login, sending its one code down its route."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from referrals.application.delivery import Attempt, Route, Walk
from referrals.application.errors import ServiceUnavailable
from referrals.application.events import CodeNotSent, CodeSent, CodeUndeliverable, Hooks
from referrals.application.ports import ChallengeStore, Clock, CodeSender, DeliveryLog, EventSink
from referrals.application.sms_text import SmsText
from referrals.domain.codes import open_code
from referrals.domain.delivery import DeliveryRecord, DeliveryStep, Status, Step
from referrals.domain.messages import CodeDelivery
from referrals.domain.phone import masked
from referrals.domain.routes import Routes, region_of

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class Delivery(enum.StrEnum):
    SENT = "sent"
    STALE = "stale"
    """The challenge expired, was superseded or used: nothing to send."""
    DUPLICATE = "duplicate"
    """Already sent: the task is done."""
    BUSY = "busy"
    """Another worker's claim still holds it: retry the task after the lease."""
    DELIVERED = "delivered"
    """A follow-up found the code delivered: no other channel is needed."""
    FAILED = "failed"
    """Every channel of the route failed: the login ends ``delivery_failed``."""


WALKED = {
    Walk.ACCEPTED: Delivery.SENT,
    Walk.EXHAUSTED: Delivery.FAILED,
    Walk.DUPLICATE: Delivery.DUPLICATE,
    Walk.BUSY: Delivery.BUSY,
}


@dataclass(frozen=True, slots=True)
class DeliverCode:
    """Send the code of a queued delivery down its route, at most once per channel.

    Queues deliver at least once, so the same delivery may arrive twice; a
    ledger claim per login and channel makes each channel's sending happen
    once (see :class:`~referrals.application.delivery.Route`), and a
    delivery whose login was sent already is dropped as a duplicate.

    When a channel that reports receipts (``receipt_channels``) accepts the
    code and the route has a channel after it, a follow-up delivery is
    queued on ``follow_ups`` to run ``receipt_timeout`` seconds later (it
    waits for its ``not_before``): unless a receipt said "delivered" by
    then, the next channel gets the same code, while the code is still
    valid. Every step lands in the login's record in ``delivery_log``.
    """

    challenges: ChallengeStore
    route: Route
    routes: Routes
    delivery_log: DeliveryLog
    clock: Clock
    secret: bytes = field(repr=False)
    receipt_timeout: float
    """Seconds to wait for a "delivered" receipt (``Settings.receipt_timeout``)."""
    sms_text: SmsText = field(default_factory=SmsText)
    events: EventSink = field(default_factory=Hooks)
    """Where :class:`CodeSent`, :class:`CodeNotSent` and :class:`CodeUndeliverable` go."""
    receipt_channels: frozenset[str] = frozenset()
    follow_ups: CodeSender | None = None
    """Where follow-ups go; ``None``: no failover on a missing receipt."""
    sleep: Sleep = asyncio.sleep

    async def __call__(self, delivery: CodeDelivery) -> Delivery:
        try:
            outcome = await self._deliver(delivery)
        except ServiceUnavailable as exc:
            await self._not_sent(delivery, "failed", unavailable=exc.what)
            raise
        except Exception:
            await self._not_sent(delivery, "failed")
            raise
        if outcome is not Delivery.SENT:
            await self._not_sent(delivery, str(outcome))
        return outcome

    async def _not_sent(
        self, delivery: CodeDelivery, outcome: str, unavailable: str | None = None
    ) -> None:
        event = CodeNotSent(
            at=self.clock.now(), phone=delivery.phone, outcome=outcome, unavailable=unavailable
        )
        await self.events.publish(event)

    async def _deliver(self, delivery: CodeDelivery) -> Delivery:
        if delivery.not_before is not None and delivery.not_before > self.clock.now():
            await self.sleep(delivery.not_before - self.clock.now())
        now = self.clock.now()
        login = delivery.challenge_id
        if delivery.expires_at <= now or not await self.challenges.get(login, now):
            log.info("dropped a stale code for %s", masked(delivery.phone))
            return Delivery.STALE
        record = await self._record(delivery)
        chain = record.route
        if delivery.after is None:
            if record.sent_channels:
                log.info("dropped a duplicate code for %s", masked(delivery.phone))
                return Delivery.DUPLICATE
        else:
            if record.status is Status.DELIVERED:
                return Delivery.DELIVERED
            step = DeliveryStep(now, Step.TIMEOUT, delivery.after)
            await self.delivery_log.add(login, step)
            chain = chain[chain.index(delivery.after) + 1 :] if delivery.after in chain else ()
        code = open_code(self.secret, login, delivery.sealed_code)
        language = self.sms_text.language_for(delivery.language)
        attempt = Attempt(delivery, code, self.sms_text.render(code, language), language)
        walked = await self.route.walk(chain, attempt)
        if walked.outcome is Walk.EXHAUSTED:
            await self._give_up(delivery, record)
        elif walked.outcome is Walk.ACCEPTED:
            await self._sent(delivery, record, walked.channel, language)
        return WALKED[walked.outcome]

    async def _record(self, delivery: CodeDelivery) -> DeliveryRecord:
        login = delivery.challenge_id
        record = await self.delivery_log.get(login)
        if record is not None:
            return record
        queued_at = delivery.requested_at or self.clock.now()
        chain = self.routes.chain(delivery.phone)
        record = DeliveryRecord(
            login,
            chain,
            region_of(delivery.phone),
            queued_at,
            (DeliveryStep(queued_at, Step.QUEUED),),
        )
        await self.delivery_log.open(record)
        return await self.delivery_log.get(login) or record

    async def _sent(
        self, delivery: CodeDelivery, record: DeliveryRecord, channel: str, language: str
    ) -> None:
        sent_at = self.clock.now()
        event = CodeSent(
            at=sent_at,
            phone=delivery.phone,
            language=language,
            requested_at=delivery.requested_at,
            channel=channel,
            country=record.country,
            route=",".join(record.route),
        )
        await self.events.publish(event)
        later = record.route[record.route.index(channel) + 1 :] if channel in record.route else ()
        wake = sent_at + self.receipt_timeout
        if not later or channel not in self.receipt_channels or self.follow_ups is None:
            return
        if wake >= delivery.expires_at:
            return
        follow_up = dataclasses.replace(delivery, after=channel, not_before=wake)
        try:
            await self.follow_ups.send(follow_up)
        except ServiceUnavailable:
            log.warning("could not queue the receipt check of %s's code", masked(delivery.phone))

    async def _give_up(self, delivery: CodeDelivery, record: DeliveryRecord) -> None:
        now = self.clock.now()
        await self.delivery_log.add(delivery.challenge_id, DeliveryStep(now, Step.DELIVERY_FAILED))
        log.warning(
            "no channel of %s took the code for %s", ",".join(record.route), masked(delivery.phone)
        )
        event = CodeUndeliverable(
            at=now, phone=delivery.phone, country=record.country, route=",".join(record.route)
        )
        await self.events.publish(event)
