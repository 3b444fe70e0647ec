"""What happened to one login's code: its steps, and the status they add up to.

A login's delivery record starts ``queued``; each channel tried adds steps
(``sent`` when the provider accepted the message, ``failed`` or
``skipped`` when it did not or could not be asked, ``receipt`` for a
provider's word that it is queued or sent on, ``delivered`` or
``undelivered`` when its final receipt came, ``timeout`` when none came in time);
``delivery_failed`` ends a login whose every channel failed, and
``verified`` marks the login's code being used. See docs/sending-codes.md.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Step(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    """The channel's provider accepted the message (``detail``: its message id)."""
    FAILED = "failed"
    """The provider refused or could not be reached (``detail``: why)."""
    SKIPPED = "skipped"
    """Not tried: the channel's circuit is open."""
    RECEIPT = "receipt"
    """The provider's receipt says the message is queued or sent on (``detail``)."""
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    """The provider's receipt says the message did not arrive."""
    TIMEOUT = "timeout"
    """No receipt came in time: the next channel gets the code."""
    DELIVERY_FAILED = "delivery_failed"
    """Every channel of the route failed."""
    VERIFIED = "verified"


class Status(enum.StrEnum):
    """Where a login's code is, as the page and the operator see it."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"


class CircuitState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    """No attempt goes to the channel until its cool-down ends."""
    HALF_OPEN = "half_open"
    """The cool-down is over: one probe may go; its outcome closes or re-opens."""


def circuit_state(open_until: float | None, now: float) -> CircuitState:
    """A circuit's state from when its cool-down ends (``None``: it never opened)."""
    if open_until is None:
        return CircuitState.CLOSED
    return CircuitState.OPEN if now < open_until else CircuitState.HALF_OPEN


@dataclass(frozen=True, slots=True)
class DeliveryStep:
    at: float
    step: Step
    channel: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One login's delivery: its route, its country and the steps so far."""

    login: str
    """The login's challenge id (never its token)."""
    route: tuple[str, ...]
    country: str
    queued_at: float
    steps: tuple[DeliveryStep, ...] = ()

    def _last(self, *kinds: Step) -> DeliveryStep | None:
        return next((s for s in reversed(self.steps) if s.step in kinds), None)

    @property
    def status(self) -> Status:
        if self._last(Step.DELIVERED) is not None:
            return Status.DELIVERED
        if self._last(Step.DELIVERY_FAILED) is not None:
            return Status.DELIVERY_FAILED
        if self._last(Step.SENT) is not None:
            return Status.SENT
        return Status.QUEUED

    @property
    def channel(self) -> str | None:
        """The channel that carries the code now: the one that delivered it,
        else the last one that accepted it; ``None`` before any did."""
        last = self._last(Step.DELIVERED) or self._last(Step.SENT)
        return last.channel if last else None

    @property
    def sent_channels(self) -> tuple[str, ...]:
        """Channels that accepted the code, in order (each at most once)."""
        return tuple(dict.fromkeys(s.channel for s in self.steps if s.step is Step.SENT))

    @property
    def failed_over(self) -> bool:
        """Whether a channel after the route's first one carries, or is trying, the code."""
        tried = [s.channel for s in self.steps if s.channel and s.step is not Step.VERIFIED]
        return bool(tried) and tried[-1] != self.route[0] if self.route else False

    @property
    def verified(self) -> bool:
        return self._last(Step.VERIFIED) is not None

    def time_of(self, step: Step, channel: str | None = None) -> float | None:
        """When ``step`` (on ``channel``, if given) last happened."""
        for s in reversed(self.steps):
            if s.step is step and (channel is None or s.channel == channel):
                return s.at
        return None

    def with_step(self, step: DeliveryStep) -> DeliveryRecord:
        return DeliveryRecord(
            self.login, self.route, self.country, self.queued_at, (*self.steps, step)
        )
