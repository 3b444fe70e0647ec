"""The spend ledger in this process: every charge kept for the longest cap's window."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence

from referrals.domain.limits import Charge, Limit
from referrals.domain.spend import SPENT


class InMemorySpendLedger:
    """:class:`~referrals.application.ports.SpendLedger` for one process: each
    step holds a lock, so it is atomic among this process's tasks."""

    def __init__(self) -> None:
        self._charges: list[Charge] = []
        self._days: dict[str, dict[tuple[str, str], float]] = defaultdict(
            lambda: defaultdict(float)
        )
        self._lock = asyncio.Lock()

    async def reserve(self, charge: Charge, caps: Sequence[Limit]) -> float | None:
        async with self._lock:
            longest = max((cap.window for cap in caps), default=0.0)
            self._charges = [c for c in self._charges if c.at > charge.at - longest]
            wait = 0.0
            for cap in caps:
                inside = [c for c in self._charges if c.at > charge.at - cap.window]
                if sum(c.amount for c in inside) >= cap.count:
                    wait = max(wait, min(c.at for c in inside) + cap.window - charge.at)
            if wait > 0:
                return wait
            if caps:
                self._charges.append(charge)
            self._days[charge.day][(charge.channel, charge.country)] += charge.amount
            return None

    async def refund(self, charge: Charge) -> None:
        async with self._lock:
            self._charges = [c for c in self._charges if c.ticket != charge.ticket]
            day, key = self._days[charge.day], (charge.channel, charge.country)
            day[key] -= charge.amount
            if day[key] < SPENT:  # every charge refunded: nothing spent
                del day[key]

    async def day(self, day: str) -> Mapping[tuple[str, str], float]:
        return dict(self._days.get(day, {}))
