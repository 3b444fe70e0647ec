"""Refusals and failures that come from running the product, not from its rules."""

from __future__ import annotations

import enum

from referrals.domain.errors import DomainError
from referrals.domain.texts import N_


class RateLimited(DomainError, code="rate_limited"):
    """A limit on *sending* was reached (resend cooldown, codes per phone, per
    address, per number block, per country, in all); ``retry_after`` seconds
    until it frees up. ``limit`` is the stable name of the limit that refused
    (``cooldown``, ``phone_send``…; see ``rate_limits``), for clients and metrics."""

    message = N_("Too many requests; try again later.")

    def __init__(self, retry_after: float, limit: str = "") -> None:
        super().__init__()
        self.retry_after = retry_after
        self.limit = limit


class TooManyAttempts(RateLimited, code="too_many_attempts"):
    """A limit on *guessing* was reached (wrong codes per phone or per phone
    and address, verifications per address, unknown invite codes);
    ``retry_after`` seconds until it frees up."""

    message = N_("Too many attempts; try again later.")


class SendingPaused(DomainError, code="sending_paused"):
    """The spend cap is reached (``REFERRALS_SPEND_CAP``): no SMS is sent until
    the spend of its window falls below it, in ``retry_after`` seconds."""

    message = N_("Sending codes is paused for now; try again later.")

    def __init__(self, retry_after: float) -> None:
        super().__init__()
        self.retry_after = retry_after


class NotAuthenticated(DomainError, code="not_authenticated"):
    message = N_("Log in first: the session is missing, expired or revoked.")


class ReceiptRefused(DomainError, code="receipt_refused"):
    """A delivery receipt whose signature (or URL secret) does not match, is
    too old, or comes for a channel that takes no receipts: nothing changes."""

    message = N_("The receipt's signature does not match.")
    not_taken = N_("This service takes no receipts from {channel}.")


class ServiceUnavailable(Exception):
    """A dependency (database, Redis, queue) did not answer; safe to retry.

    Adapters raise it instead of their driver's errors, so every edge can
    answer "try again" without knowing which technology failed.
    """

    code = "service_unavailable"

    def __init__(self, what: str, retry_after: float = 2.0) -> None:
        super().__init__(f"{what} is unavailable")
        self.what = what
        self.retry_after = retry_after


class ConcurrencyConflict(Exception):
    """A unit of work lost a race with a concurrent one; run it again."""


class Failure(enum.Enum):
    """How a channel's attempt failed, as far as routing is concerned."""

    TRANSIENT = "transient"
    """Timeouts, connection errors, 429, 5xx, "busy": retried, then the next channel."""
    UNREACHABLE = "unreachable"
    """The provider cannot reach this number (no Telegram account): the next channel."""
    BALANCE = "insufficient_balance"
    """The provider's account ran dry: the next channel, and the operator is alerted."""
    PERMANENT = "permanent"
    """An invalid or blocked number, a refused request: the next channel may still reach it."""


class DeliveryFailed(Exception):
    """The SMS gateway did not accept the message; ``failure`` says how
    (:attr:`Failure.TRANSIENT` unless the gateway knows better)."""

    def __init__(self, message: str, failure: Failure = Failure.TRANSIENT) -> None:
        super().__init__(message)
        self.failure = failure
