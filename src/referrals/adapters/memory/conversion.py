"""Codes sent and verified per group, in this process."""

from __future__ import annotations

from collections.abc import Sequence

SWEEP_EVERY = 1_000
"""Groups with nothing left in their window are dropped every so many additions."""
KINDS = {"sent": 1, "verified": 2}
"""Each kind's place in a bucket's ``[bucket, sent, verified]``."""


class _Group:
    """A group's buckets and its running totals."""

    __slots__ = ("counts", "first", "sent", "start", "verified")

    def __init__(self, first: int) -> None:
        self.counts: list[int] = []
        """``bucket, sent, verified`` numbers, oldest bucket first."""
        self.first = first
        """The first bucket the totals count."""
        self.start = 0
        """Where in ``counts`` the first bucket counted is (before it: older ones)."""
        self.sent = 0
        self.verified = 0


class InMemoryConversionLog:
    """:class:`~referrals.application.ports.ConversionLog` in buckets of ``bucket``
    seconds, per group.

    Bounded by design (docs/performance.md): a group is one flat list of
    ``bucket, sent, verified`` numbers, oldest bucket first; its buckets older
    than it keeps are dropped as it counts, and every :data:`SWEEP_EVERY`
    additions the groups with nothing newer (a number block not seen since)
    go too. The groups of a window number at most a few per code sent in it.

    Each group keeps running totals of its buckets from a first one on, as
    the Redis log does: :meth:`counts` moves them to its window's start
    (subtracting the buckets it leaves, adding back any an earlier start
    finds), so a login's read costs O(1) however many buckets a window
    holds. ``visited`` counts the buckets read to move them (for tests).
    """

    def __init__(self, bucket: float) -> None:
        self._bucket = bucket
        self._groups: dict[str, _Group] = {}
        self._marks: dict[str, str] = {}
        self._adds = 0
        self.visited = 0
        """Buckets read to move the totals (for tests: what a login costs)."""

    def sizes(self) -> dict[str, int]:
        """Entries held, by kind (for tests and the memory bench)."""
        return {"groups": len(self._groups), "marks": len(self._marks)}

    async def counts(self, groups: Sequence[str], since: float) -> list[tuple[int, int, str]]:
        first = int(since // self._bucket)
        totals = []
        for name in groups:
            group = self._groups.get(name)
            if group is None:
                totals.append((0, 0, self._marks.get(name, "")))
                continue
            self._move(group, first)
            totals.append((group.sent, group.verified, self._marks.get(name, "")))
        return totals

    def _move(self, group: _Group, first: int) -> None:
        """The group's totals moved to count from bucket ``first`` on."""
        counts, at = group.counts, group.start
        while at < len(counts) and counts[at] < first:
            group.sent, group.verified = (
                group.sent - counts[at + 1],
                group.verified - counts[at + 2],
            )
            at += 3
            self.visited += 1
        while at > 0 and counts[at - 3] >= first:
            at -= 3
            group.sent, group.verified = (
                group.sent + counts[at + 1],
                group.verified + counts[at + 2],
            )
            self.visited += 1
        group.start, group.first = at, first

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
            for gone in [g for g, group in self._groups.items() if group.counts[-3] < oldest]:
                del self._groups[gone]
        for name in groups:
            group = self._groups.get(name)
            if group is None:
                group = self._groups[name] = _Group(oldest)
            counts = group.counts
            before = len(counts)
            at_bucket = _place(counts, bucket)
            if len(counts) > before and bucket < group.first:
                group.start += 3  # a late count, before the totals' first bucket
            counts[at_bucket + column] += by
            if bucket >= group.first:
                if column == 1:
                    group.sent += by
                else:
                    group.verified += by
            ended = 0
            while ended < len(counts) and counts[ended] < oldest:
                if ended >= group.start:  # counted in the totals: they leave with it
                    group.sent -= counts[ended + 1]
                    group.verified -= counts[ended + 2]
                ended += 3
            del counts[:ended]
            group.start = max(group.start - ended, 0)


def _place(counts: list[int], bucket: int) -> int:
    """Where ``bucket``'s numbers are in ``counts`` (added in order if new)."""
    at = len(counts) - 3
    while at >= 0 and counts[at] > bucket:  # a late count: rarely more than one back
        at -= 3
    if at < 0 or counts[at] != bucket:
        at += 3
        counts[at:at] = [bucket, 0, 0]
    return at
