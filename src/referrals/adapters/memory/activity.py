"""Activity counts in a dict of hourly buckets."""

from __future__ import annotations

from collections import Counter

from referrals.application.activity import HOUR, KEEP_HOURS, hours


class InMemoryActivityLog:
    """Hourly counts in this process; buckets older than the kept span are dropped."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, int]] = Counter()

    async def add(self, name: str, at: float) -> None:
        hour = int(at // HOUR)
        self._counts[(name, hour)] += 1
        if len(self._counts) > 4 * KEEP_HOURS:  # a few names, a day and a half each
            old = hour - KEEP_HOURS
            for key in [key for key in self._counts if key[1] <= old]:
                del self._counts[key]

    async def count(self, name: str, since: float, until: float) -> int:
        return sum(self._counts[(name, hour)] for hour in hours(since, until))
