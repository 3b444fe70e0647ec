"""A code on its way: the delivery a queue carries, the message a channel
sends, and a worker's claim on sending it (docs/sending-codes.md)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from referrals.domain.phone import Phone


@dataclass(frozen=True, slots=True)
class CodeDelivery:
    """A code on its way to a phone. The code is sealed (see ``seal_code``)."""

    challenge_id: str
    phone: Phone
    sealed_code: str
    expires_at: float
    language: str | None = None
    """The language the person asked for (e.g. ``ru-RU``); the SMS text follows it."""
    requested_at: float | None = None
    """When the login asked for it (the service's clock), for the delivery latency."""
    after: str | None = None
    """Set on a follow-up: the channel that accepted the code and whose
    receipt is awaited; unless it came, the route goes on after it."""
    not_before: float | None = None
    """A follow-up runs no earlier than this (the receipt timeout's end)."""


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """One login's code on its way out through one channel.

    Channels differ: an SMS provider sends ``text``, Telegram Gateway takes
    ``code`` and ``ttl`` and writes its own message. Each gateway takes what
    it needs.
    """

    phone: Phone
    text: str
    """The rendered SMS, in ``language`` (see ``referrals.application.sms_text``)."""
    idempotency_key: str
    """The same for every retry of one message, so a gateway that supports it
    can drop duplicates on its side too."""
    code: str = ""
    ttl: float = 0.0
    """Seconds the code stays valid from now."""
    language: str = "en"


class Claim(enum.Enum):
    GRANTED = "granted"
    """The caller may send, for the lease it asked for."""
    SENT = "sent"
    """The code was sent already: nothing to do, ever."""
    HELD = "held"
    """Another worker's unexpired claim holds it: try again after the lease."""
