"""What an SMS costs: a price per segment by country, and by channel where channels differ.

Prices are written as ``REFERRALS_SMS_PRICES`` reads them (see
docs/sending-codes.md, *Spend*): ``ru=4.5,kz=3,*=0.08``, or per channel
``telegram:ru=1,ru=4.5``. The most specific entry wins: the channel's price
for the country, the channel's ``*``, the country's, ``*``; else nothing is
charged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

ANY = "*"
SPENT = 1e-9
"""A day's figure below this is nothing spent: every charge of it was refunded
(the ledgers drop it, so ``referrals stats`` shows no zero)."""


@dataclass(frozen=True, slots=True)
class Prices:
    """Price per SMS segment, keyed by (channel or ``""``, country or ``*``); the
    country is a lower-case region code (``ru``)."""

    entries: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if any(price < 0 for price in self.entries.values()):
            raise ValueError("prices must not be negative")
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))

    @property
    def empty(self) -> bool:
        """Whether no price is set at all (the default)."""
        return not self.entries

    @property
    def free(self) -> bool:
        """Whether every send costs nothing (the default)."""
        return not any(self.entries.values())

    def per_segment(self, channel: str, country: str) -> float:
        country = country.lower()
        for key in ((channel, country), (channel, ANY), ("", country), ("", ANY)):
            if key in self.entries:
                return self.entries[key]
        return 0.0

    def cost(self, channel: str, country: str, segments: int) -> float:
        """What ``segments`` SMS parts to ``country`` through ``channel`` cost."""
        return self.per_segment(channel, country) * segments


def parse_prices(text: str, channels: frozenset[str] | None = None) -> Prices:
    """``ru=4.5,kz=3,*=0.08`` or ``telegram:ru=1,ru=4.5`` (``ValueError`` if
    malformed, or a channel not in ``channels``)."""
    entries: dict[tuple[str, str], float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        where, equals, price = part.partition("=")
        channel, colon, country = where.strip().rpartition(":")
        channel, country = channel.strip().lower(), country.strip().lower()
        if not equals or not country or (colon and not channel):
            raise ValueError(part)
        if country != ANY and not (len(country) == 2 and country.isalpha()):
            raise ValueError(part)
        if channel and channels is not None and channel not in channels:
            raise ValueError(part)
        if (channel, country) in entries:
            raise ValueError(part)
        entries[(channel, country)] = float(price)
    return Prices(entries)
