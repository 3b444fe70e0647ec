"""Codes sent and verified per group, in this process."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

SWEEP_EVERY = 1_000
"""Groups with nothing left in their window are dropped every so many additions."""


class InMemoryConversionLog:
    """:class:`~referrals.application.ports.ConversionLog` in buckets of ``bucket``
    seconds, per group; a group's buckets older than it keeps are dropped as it
    counts, and every :data:`SWEEP_EVERY` additions the groups whose every
    bucket is that old (a network not seen since) go too."""

    def __init__(self, bucket: float) -> None:
        self._bucket = bucket
        self._groups: defaultdict[str, Counter[tuple[str, int]]] = defaultdict(Counter)
        self._marks: dict[str, str] = {}
        self._adds = 0

    def sizes(self) -> dict[str, int]:
        """Entries held, by kind (for tests and the memory bench)."""
        return {"groups": len(self._groups), "marks": len(self._marks)}

    async def counts(self, groups: Sequence[str], since: float) -> list[tuple[int, int, str]]:
        first = int(since // self._bucket)
        totals = []
        for group in groups:
            buckets = self._groups.get(group, Counter())
            sent = sum(n for (kind, b), n in buckets.items() if kind == "sent" and b >= first)
            done = sum(n for (kind, b), n in buckets.items() if kind == "verified" and b >= first)
            totals.append((sent, done, self._marks.get(group, "")))
        return totals

    async def mark(self, group: str, mark: str) -> None:
        if mark:
            self._marks[group] = mark
        else:
            self._marks.pop(group, None)

    async def groups(self) -> list[str]:
        return sorted({*(g for g, buckets in self._groups.items() if buckets), *self._marks})

    async def add(
        self, groups: Sequence[str], kind: str, at: float, keep: float, by: int = 1
    ) -> None:
        bucket = int(at // self._bucket)
        oldest = int((at - keep) // self._bucket)
        self._adds += 1
        if self._adds % SWEEP_EVERY == 0:
            for gone in [g for g, b in self._groups.items() if _newest(b) < oldest]:
                del self._groups[gone]
        for group in groups:
            buckets = self._groups[group]
            buckets[(kind, bucket)] += by
            if len(buckets) > 2 * (keep / self._bucket) + 4:
                for key in [key for key in buckets if key[1] < oldest]:
                    del buckets[key]


def _newest(buckets: Counter[tuple[str, int]]) -> int:
    return max((bucket for _, bucket in buckets), default=-1)
