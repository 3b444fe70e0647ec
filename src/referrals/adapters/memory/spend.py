"""The spend ledger in this process: charges summed in buckets, each cap's
total kept as its window moves."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence

from referrals.application.spend import SPEND_BUCKET
from referrals.domain.limits import Charge, Limit
from referrals.domain.spend import SPENT


class _Window:
    """A cap window's running total and the first bucket it counts."""

    __slots__ = ("first", "total")

    def __init__(self, first: int, total: float) -> None:
        self.first = first
        self.total = total


class InMemorySpendLedger:
    """:class:`~referrals.application.ports.SpendLedger` for one process: each
    step holds a lock, so it is atomic among this process's tasks.

    Charges are summed per ``bucket`` seconds, as the Redis ledger sums them,
    and a cap's window counts every bucket it touches: it refuses up to one
    bucket early, never late (this ledger used to keep every charge and be
    exact to the charge, but then a daily cap read a day of charges at every
    login). Each cap window keeps a running total and the first bucket it
    counts; a login moves it on, subtracting the buckets its window left
    (those older than the longest window are dropped), so a login costs O(1)
    however many buckets a window holds. The whole ledger is read again only
    when the caps change or a window moved further than there are buckets.
    """

    def __init__(self, bucket: float = SPEND_BUCKET) -> None:
        self._size = bucket
        self._buckets: dict[int, float] = {}
        self._windows: tuple[float, ...] = ()
        self._totals: dict[float, _Window] = {}
        self._days: dict[str, dict[tuple[str, str], float]] = defaultdict(
            lambda: defaultdict(float)
        )
        self._lock = asyncio.Lock()
        self.visited = 0
        """Buckets read to keep the totals (for tests: what a login costs)."""

    def _first(self, at: float, window: float) -> int:
        return int((at - window) // self._size)

    def _get(self, bucket: int) -> float:
        self.visited += 1
        return self._buckets.get(bucket, 0.0)

    def _move(self, windows: tuple[float, ...], at: float) -> None:
        """Each window's total moved to its first bucket at ``at``."""
        firsts = {window: self._first(at, window) for window in windows}
        oldest = min(firsts.values())
        if windows != self._windows or any(
            abs(firsts[w] - self._totals[w].first) > len(self._buckets) for w in firsts
        ):
            self._recount(windows, firsts, oldest)
            return
        lowest = min(self._totals[w].first for w in firsts)
        for window, first in firsts.items():
            kept = self._totals[window]
            kept.total -= sum(self._get(b) for b in range(kept.first, first))
            kept.total += sum(self._get(b) for b in range(first, kept.first))
            kept.first = first
        for gone in range(lowest, oldest):
            self._buckets.pop(gone, None)

    def _recount(self, windows: tuple[float, ...], firsts: dict[float, int], oldest: int) -> None:
        self.visited += len(self._buckets)
        self._buckets = {b: amount for b, amount in self._buckets.items() if b >= oldest}
        self._windows = windows
        self._totals = {
            window: _Window(first, sum(a for b, a in self._buckets.items() if b >= first))
            for window, first in firsts.items()
        }

    def _earliest(self, first: int, last: int) -> int:
        """The first bucket from ``first`` on with something spent in it."""
        if last - first < len(self._buckets):
            for b in range(first, last + 1):
                if self._get(b) > 0:
                    return b
        self.visited += len(self._buckets)
        spent = [b for b, amount in self._buckets.items() if b >= first and amount > 0]
        return min(spent, default=last)

    async def reserve(self, charge: Charge, caps: Sequence[Limit]) -> float | None:
        async with self._lock:
            if caps:
                self._move(tuple(cap.window for cap in caps), charge.at)
                bucket = int(charge.at // self._size)
                wait = 0.0
                for cap in caps:
                    kept = self._totals[cap.window]
                    if kept.total >= cap.count:
                        earliest = self._earliest(kept.first, bucket)
                        wait = max(wait, (earliest + 1) * self._size + cap.window - charge.at)
                if wait > 0:
                    return wait
                self._buckets[bucket] = self._buckets.get(bucket, 0.0) + charge.amount
                for window in self._totals.values():
                    window.total += charge.amount
            self._days[charge.day][(charge.channel, charge.country)] += charge.amount
            return None

    async def refund(self, charge: Charge) -> None:
        async with self._lock:
            bucket = int(charge.at // self._size)
            if bucket in self._buckets:
                self._buckets[bucket] -= charge.amount
                for window in self._totals.values():
                    if window.first <= bucket:
                        window.total -= charge.amount
            day, key = self._days[charge.day], (charge.channel, charge.country)
            day[key] -= charge.amount
            if day[key] < SPENT:  # every charge refunded: nothing spent
                del day[key]

    async def day(self, day: str) -> Mapping[tuple[str, str], float]:
        return dict(self._days.get(day, {}))
