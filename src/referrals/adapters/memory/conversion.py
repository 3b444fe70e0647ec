"""Codes sent and verified per group, in this process."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


class InMemoryConversionLog:
    """:class:`~referrals.application.ports.ConversionLog` in buckets of ``bucket`` seconds."""

    def __init__(self, bucket: float) -> None:
        self._bucket = bucket
        self._counts: Counter[tuple[str, str, int]] = Counter()
        self._keep: dict[str, float] = {}

    async def counts(self, groups: Sequence[str], since: float) -> list[tuple[int, int]]:
        first = int(since // self._bucket)
        totals = []
        for group in groups:
            sent = sum(
                n
                for (g, k, b), n in self._counts.items()
                if g == group and k == "sent" and b >= first
            )
            done = sum(
                n
                for (g, k, b), n in self._counts.items()
                if g == group and k == "verified" and b >= first
            )
            totals.append((sent, done))
        return totals

    async def add(self, groups: Sequence[str], kind: str, at: float, keep: float) -> None:
        bucket = int(at // self._bucket)
        oldest = int((at - keep) // self._bucket)
        for group in groups:
            self._counts[(group, kind, bucket)] += 1
        if len(self._counts) > 10_000:
            for key in [key for key in self._counts if key[2] < oldest]:
                del self._counts[key]
