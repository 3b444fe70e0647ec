"""The route: a login's code walks a chain of channels until one accepts it.

The chain comes from the route table (``REFERRALS_SMS_ROUTES``). A channel
is skipped while its circuit is open; an "unreachable here" answer (no
Telegram account), a transient failure that outlived its retries, or an
empty balance moves on to the next channel. Each channel sends a login's
code at most once (a :class:`DeliveryLedger` claim per login and channel),
and every channel carries the same code: the one sealed in the delivery.
The in-process queue and the taskiq worker both run this code (through
:class:`~referrals.application.deliver_code.DeliverCode`). See
docs/sending-codes.md.
"""

from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from referrals.application.errors import DeliveryFailed, Failure
from referrals.application.events import ChannelFailed, Hooks
from referrals.application.ports import (
    CircuitBreaker,
    Clock,
    DeliveryLedger,
    DeliveryLog,
    EventSink,
    SmsGateway,
)
from referrals.domain.delivery import DeliveryStep, Step
from referrals.domain.messages import Claim, CodeDelivery, SmsMessage
from referrals.domain.phone import masked

log = logging.getLogger("referrals.delivery")


class Walk(enum.Enum):
    ACCEPTED = "accepted"
    """A channel accepted the code (``Walked.channel``)."""
    EXHAUSTED = "exhausted"
    """No channel from the start on accepted it: every one failed or was skipped."""
    DUPLICATE = "duplicate"
    """A channel had sent it already (a redelivered task): nothing more to do."""
    BUSY = "busy"
    """Another worker is sending on a channel right now: retry after its lease."""


CIRCUIT_FAILURES = frozenset({Failure.TRANSIENT, Failure.BALANCE})
"""Failures that say the provider is unwell (they count towards its circuit)."""


@dataclass(frozen=True, slots=True)
class Walked:
    outcome: Walk
    channel: str = ""
    message_id: str = ""


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one channel is asked to carry: the delivery and its rendered text."""

    delivery: CodeDelivery
    code: str
    text: str
    language: str


def ledger_key(login: str, channel: str) -> str:
    """The ledger's entry for ``login``'s code on ``channel``: one claim per channel."""
    return f"{login}/{channel}"


@dataclass(frozen=True, slots=True)
class Route:
    """Walks a chain of channels for one login (see the module's docstring).

    ``retries`` is how many more times a transient failure is tried on the
    same channel (with the same idempotency key) before moving on. ``lease``
    bounds one worker's claim on a channel (see ``Settings.delivery_lease``).
    """

    channels: Mapping[str, SmsGateway]
    circuit: CircuitBreaker
    delivery_ledger: DeliveryLedger
    delivery_log: DeliveryLog
    clock: Clock
    lease: float
    retries: int
    events: EventSink = field(default_factory=Hooks)
    """Where :class:`ChannelFailed` goes (each failed try of a channel)."""

    async def walk(self, chain: tuple[str, ...], attempt: Attempt) -> Walked:
        login = attempt.delivery.challenge_id
        for channel in chain:
            if not await self.circuit.allows(channel, self.clock.now()):
                await self._step(login, Step.SKIPPED, channel, "circuit_open")
                continue
            claimant = secrets.token_hex(8)
            key = ledger_key(login, channel)
            claim = await self.delivery_ledger.claim(key, claimant, self.lease, self.clock.now())
            if claim is Claim.SENT:
                return Walked(Walk.DUPLICATE, channel)
            if claim is Claim.HELD:
                return Walked(Walk.BUSY, channel)
            try:
                sent = await self._send(channel, attempt)
            except BaseException:
                await self.delivery_ledger.release(key, claimant)
                raise
            if isinstance(sent, Failure):
                await self.delivery_ledger.release(key, claimant)
                continue
            await self.delivery_ledger.mark_sent(key, attempt.delivery.expires_at, self.clock.now())
            await self._step(login, Step.SENT, channel, sent)
            if sent:
                await self.delivery_log.link(channel, sent, login)
            return Walked(Walk.ACCEPTED, channel, sent)
        return Walked(Walk.EXHAUSTED)

    async def _send(self, channel: str, attempt: Attempt) -> str | Failure:
        """The provider's message id once ``channel`` accepted, else why it failed."""
        login = attempt.delivery.challenge_id
        log.info("sending a code to %s through %s", masked(attempt.delivery.phone), channel)
        for _ in range(1 + self.retries):
            answer = await self._try(channel, attempt)
            now = self.clock.now()
            if not isinstance(answer, Failure):
                await self.circuit.succeeded(channel, now)
                return answer
            log.info(
                "%s did not take the code for %s: %s",
                channel,
                masked(attempt.delivery.phone),
                answer.value,
            )
            await self._step(login, Step.FAILED, channel, answer.value)
            await self.events.publish(ChannelFailed(at=now, channel=channel, reason=answer.value))
            if answer in CIRCUIT_FAILURES:
                await self.circuit.failed(channel, now)
            if answer is not Failure.TRANSIENT:
                return answer
        return Failure.TRANSIENT

    async def _try(self, channel: str, attempt: Attempt) -> str | Failure:
        delivery = attempt.delivery  # one idempotency key per login: providers differ
        message = SmsMessage(
            phone=delivery.phone,
            text=attempt.text,
            idempotency_key=delivery.challenge_id,
            code=attempt.code,
            ttl=max(delivery.expires_at - self.clock.now(), 0.0),
            language=attempt.language,
        )
        try:
            message_id = await self.channels[channel].send(message)
        except DeliveryFailed as exc:
            if exc.failure is Failure.BALANCE:
                log.error("%s: the provider's balance is too low to send codes", channel)
            return exc.failure
        return message_id or ""

    async def _step(self, login: str, step: Step, channel: str, detail: str = "") -> None:
        await self.delivery_log.add(login, DeliveryStep(self.clock.now(), step, channel, detail))
