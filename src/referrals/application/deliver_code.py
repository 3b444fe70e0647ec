"""DeliverCode: the worker's side of a login, sending one code by SMS, once."""

from __future__ import annotations

import enum
import logging
import secrets
from dataclasses import dataclass, field

from referrals.application.errors import ServiceUnavailable
from referrals.application.events import CodeNotSent, CodeSent, Hooks
from referrals.application.ports import (
    ChallengeStore,
    Claim,
    Clock,
    CodeDelivery,
    DeliveryLedger,
    EventSink,
    SmsGateway,
)
from referrals.application.sms_text import SmsText
from referrals.domain.codes import open_code
from referrals.domain.phone import masked

log = logging.getLogger(__name__)


class Delivery(enum.StrEnum):
    SENT = "sent"
    STALE = "stale"
    """The challenge expired, was superseded or used: nothing to send."""
    DUPLICATE = "duplicate"
    """Already sent: the task is done."""
    BUSY = "busy"
    """Another worker's claim still holds it: retry the task after the lease."""


@dataclass(frozen=True, slots=True)
class DeliverCode:
    """Send the code of a queued delivery, at most once per challenge.

    Queues deliver at least once, so the same delivery may arrive twice
    (a worker died before acknowledging it). A ledger claim makes the effect
    once: the first worker claims for ``lease`` seconds and
    marks the code sent; a redelivery finds the mark and drops. A worker that
    dies mid-send leaves only the lease, which expires before the queue
    redelivers, so the code still goes out; a copy that finds the lease still
    held answers ``BUSY``, and its task is retried rather than dropped. A
    gateway failure releases the claim and propagates, so the task can be
    retried. The text is ``sms_text`` in the delivery's language;
    :class:`CodeSent` is published once the gateway accepted it.
    """

    challenges: ChallengeStore
    delivery_ledger: DeliveryLedger
    sms_gateway: SmsGateway
    clock: Clock
    secret: bytes = field(repr=False)
    lease: float
    """Seconds one sender may hold a code before another may retry it; it must
    end before the queue redelivers the task, so it has no default here: pass
    ``Settings.delivery_lease``, its one home."""
    sms_text: SmsText = field(default_factory=SmsText)
    events: EventSink = field(default_factory=Hooks)
    """Where :class:`CodeSent` goes; no hooks by default."""

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
        now = self.clock.now()
        if delivery.expires_at <= now or not await self.challenges.get(delivery.challenge_id, now):
            log.info("dropped a stale code for %s", masked(delivery.phone))
            return Delivery.STALE
        claimant = secrets.token_hex(8)
        ledger = self.delivery_ledger
        claim = await ledger.claim(delivery.challenge_id, claimant, self.lease, now)
        if claim is Claim.SENT:
            log.info("dropped a duplicate code for %s", masked(delivery.phone))
            return Delivery.DUPLICATE
        if claim is Claim.HELD:
            log.info("another worker is sending the code for %s", masked(delivery.phone))
            return Delivery.BUSY
        log.info("sending a code to %s", masked(delivery.phone))
        code = open_code(self.secret, delivery.challenge_id, delivery.sealed_code)
        language = self.sms_text.language_for(delivery.language)
        text = self.sms_text.render(code, language)
        try:
            await self.sms_gateway.send(delivery.phone, text, delivery.challenge_id)
        except BaseException:
            await ledger.release(delivery.challenge_id, claimant)
            raise
        sent_at = self.clock.now()
        await ledger.mark_sent(delivery.challenge_id, delivery.expires_at, sent_at)
        sent = CodeSent(
            at=sent_at,
            phone=delivery.phone,
            language=language,
            requested_at=delivery.requested_at,
        )
        await self.events.publish(sent)
        return Delivery.SENT
