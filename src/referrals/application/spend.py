"""The spend cap: every SMS costed at its segments, refused past the cap
(docs/sending-codes.md, *Spend*)."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from typing import NoReturn

from referrals.application.errors import SendingPaused
from referrals.application.ports import SpendLedger
from referrals.domain.limits import Charge, Limit
from referrals.domain.phone import Phone, region_of
from referrals.domain.segments import sms_size
from referrals.domain.spend import Prices

log = logging.getLogger("referrals.spend")

SPEND_BUCKET = 60.0
"""Seconds per bucket a shared ledger sums charges in: a cap refuses at most
that much early, never late."""


def utc_day(at: float) -> str:
    """The UTC date of a time, ``2026-12-07``: the day a charge counts for."""
    return _day(int(at // 86_400))


@functools.lru_cache(maxsize=4)
def _day(number: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(number * 86_400))


@functools.lru_cache(maxsize=256)
def segments(text: str) -> int:
    """The SMS segments ``text`` takes (a login's text is one of a few: see
    :meth:`SpendCap.charge`)."""
    return sms_size(text).segments


@dataclass(frozen=True, slots=True)
class SpendCap:
    """Prices, caps and the ledger they are kept in.

    With no caps and every price zero (the default) it does nothing, and
    costs no round trip.
    """

    ledger: SpendLedger
    prices: Prices = field(default_factory=Prices)
    caps: tuple[Limit, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.caps) or not self.prices.free

    def charge(self, ticket: str, phone: Phone, channel: str, text: str, at: float) -> Charge:
        """The charge of one SMS of ``text`` to ``phone`` through ``channel``.

        A code's digits never change the size of its SMS (a digit is one
        unit in every encoding), so a caller may pass the text with any code
        of the same length, such as zeros: then the texts repeat and their
        sizes are counted once."""
        country = region_of(phone)
        amount = self.prices.cost(channel, country, segments(text))
        return Charge(ticket, amount, at, channel, country, utc_day(at))

    async def reserve(self, charge: Charge) -> None:
        """Reserve the charge, or raise :class:`SendingPaused` past a cap."""
        wait = await self.ledger.reserve(charge, self.caps)
        if wait is not None:
            self.pause(wait)

    def pause(self, wait: float) -> NoReturn:
        """Log that the cap is reached, and raise :class:`SendingPaused`."""
        log.warning(
            "sending paused: the spend cap is reached (%s); next room in %.0f s",
            ",".join(f"{cap.count}/{cap.window:g}" for cap in self.caps),
            wait,
        )
        raise SendingPaused(wait)
