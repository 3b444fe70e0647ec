"""Codes sent and verified per group, in this process."""

from __future__ import annotations

from collections.abc import Sequence

SWEEP_EVERY = 1_000
"""Groups with nothing left in their window are dropped every so many additions."""
KINDS = {"sent": 1, "verified": 2}
"""Each kind's place in a bucket's ``[bucket, sent, verified]``."""


class InMemoryConversionLog:
    """:class:`~referrals.application.ports.ConversionLog` in buckets of ``bucket``
    seconds, per group.

    Bounded by design (docs/performance.md): a group is one flat list of
    ``bucket, sent, verified`` numbers, oldest bucket first; its buckets older
    than it keeps are dropped as it counts, and every :data:`SWEEP_EVERY`
    additions the groups with nothing newer (a number block not seen since)
    go too. The groups of a window number at most a few per code sent in it.
    """

    def __init__(self, bucket: float) -> None:
        self._bucket = bucket
        self._groups: dict[str, list[int]] = {}
        self._marks: dict[str, str] = {}
        self._adds = 0

    def sizes(self) -> dict[str, int]:
        """Entries held, by kind (for tests and the memory bench)."""
        return {"groups": len(self._groups), "marks": len(self._marks)}

    async def counts(self, groups: Sequence[str], since: float) -> list[tuple[int, int, str]]:
        first = int(since // self._bucket)
        totals = []
        for group in groups:
            counts = self._groups.get(group, [])
            inside = range(0, len(counts), 3)
            sent = sum(counts[i + 1] for i in inside if counts[i] >= first)
            done = sum(counts[i + 2] for i in inside if counts[i] >= first)
            totals.append((sent, done, self._marks.get(group, "")))
        return totals

    async def mark(self, group: str, mark: str) -> None:
        if mark:
            self._marks[group] = mark
        else:
            self._marks.pop(group, None)

    async def groups(self) -> list[str]:
        return sorted({*self._groups, *self._marks})

    async def add(
        self, groups: Sequence[str], kind: str, at: float, keep: float, by: int = 1
    ) -> None:
        column = KINDS[kind]
        bucket = int(at // self._bucket)
        oldest = int((at - keep) // self._bucket)
        self._adds += 1
        if self._adds % SWEEP_EVERY == 0:
            for gone in [g for g, counts in self._groups.items() if counts[-3] < oldest]:
                del self._groups[gone]
        for group in groups:
            counts = self._groups.setdefault(group, [])
            at_bucket = _place(counts, bucket)
            counts[at_bucket + column] += by
            ended = 0
            while ended < len(counts) and counts[ended] < oldest:
                ended += 3
            del counts[:ended]


def _place(counts: list[int], bucket: int) -> int:
    """Where ``bucket``'s numbers are in ``counts`` (added in order if new)."""
    at = len(counts) - 3
    while at >= 0 and counts[at] > bucket:  # a late count: rarely more than one back
        at -= 3
    if at < 0 or counts[at] != bucket:
        at += 3
        counts[at:at] = [bucket, 0, 0]
    return at
