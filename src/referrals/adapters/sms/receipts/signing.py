"""What the readers share: form bodies, secrets compared in constant time, fresh timestamps."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qsl

from referrals.application.errors import ReceiptRefused
from referrals.domain.errors import InvalidInput
from referrals.domain.texts import N_

MAX_AGE = 300.0
"""Seconds a signed timestamp stays good: an older callback is a replay."""


def unreadable() -> InvalidInput:
    return InvalidInput("body", N_("The receipt could not be read."))


def form(body: bytes) -> list[tuple[str, str]]:
    """An ``application/x-www-form-urlencoded`` body's fields, in order, repeats kept."""
    try:
        return parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise unreadable() from None


def same(expected: str, given: str) -> bool:
    """Whether two secrets or signatures match (in constant time)."""
    return hmac.compare_digest(expected.encode(), given.encode())


def check_key(expected: str, given: str) -> None:
    """The URL's secret, for providers that sign nothing."""
    if not given or not same(expected, given):
        raise ReceiptRefused()


def check_fresh(timestamp: str, now: float) -> None:
    """A signed Unix timestamp no more than :data:`MAX_AGE` seconds from ``now``."""
    try:
        at = float(timestamp)
    except ValueError:
        raise ReceiptRefused() from None
    if abs(now - at) > MAX_AGE:
        raise ReceiptRefused()
