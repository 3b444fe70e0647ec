"""The ConversionLog contract, for every adapter."""

from __future__ import annotations

import random

import pytest

from referrals.application.ports import ConversionLog

NOON = 1_764_417_600.0  # 2025-11-29 12:00:00 UTC, on a minute boundary
BUCKET = 60.0
"""The bucket the adapters are built with here."""
HOUR = 3600.0


class ConversionLogContract:
    """The ConversionLog contract: subclass it and give a ``conversion`` fixture."""

    pytestmark = pytest.mark.asyncio

    async def test_nothing_counted_counts_zero(self, conversion: ConversionLog) -> None:
        assert await conversion.counts(["cc:7", "net:10.0.0.0/24"], NOON - HOUR) == [
            (0, 0, ""),
            (0, 0, ""),
        ]

    async def test_sent_and_verified_add_up_per_group(self, conversion: ConversionLog) -> None:
        for n in range(3):
            await conversion.add(["cc:7", "prefix:+7999123"], "sent", NOON + n, HOUR)
        await conversion.add(["cc:7"], "verified", NOON + 5, HOUR)

        counts = await conversion.counts(["cc:7", "prefix:+7999123", "cc:1"], NOON - HOUR)
        assert counts == [(3, 1, ""), (3, 0, ""), (0, 0, "")]

    async def test_a_count_taken_back_is_not_counted(self, conversion: ConversionLog) -> None:
        await conversion.add(["cc:7", "prefix:+7999123"], "sent", NOON, HOUR)
        await conversion.add(["cc:7"], "sent", NOON + 1, HOUR)
        await conversion.add(["cc:7", "prefix:+7999123"], "sent", NOON + 1, HOUR, by=-1)

        counts = await conversion.counts(["cc:7", "prefix:+7999123"], NOON - HOUR)
        assert counts == [(1, 0, ""), (0, 0, "")]

    async def test_counts_before_the_window_are_not_counted(
        self, conversion: ConversionLog
    ) -> None:
        await conversion.add(["cc:7"], "sent", NOON - 2 * HOUR, 3 * HOUR)
        await conversion.add(["cc:7"], "sent", NOON, 3 * HOUR)

        assert await conversion.counts(["cc:7"], NOON - HOUR) == [(1, 0, "")]
        assert await conversion.counts(["cc:7"], NOON - 3 * HOUR) == [(2, 0, "")]

    async def test_a_window_that_moves_on_forgets_old_counts(
        self, conversion: ConversionLog
    ) -> None:
        await conversion.add(["cc:7"], "sent", NOON, HOUR)
        assert await conversion.counts(["cc:7"], NOON + HOUR + BUCKET) == [(0, 0, "")]
        await conversion.add(["cc:7"], "sent", NOON + 2 * HOUR, HOUR)
        assert await conversion.counts(["cc:7"], NOON + HOUR + BUCKET) == [(1, 0, "")]

    async def test_a_mark_stays_until_it_is_changed(self, conversion: ConversionLog) -> None:
        await conversion.add(["prefix:+799980"], "sent", NOON, HOUR)
        await conversion.mark("prefix:+799980", "pinned")
        await conversion.mark("net:10.0.0.0/24", "lifted")

        counts = await conversion.counts(["prefix:+799980", "net:10.0.0.0/24"], NOON - HOUR)
        assert counts == [(1, 0, "pinned"), (0, 0, "lifted")]
        assert {"prefix:+799980", "net:10.0.0.0/24"} <= set(await conversion.groups())

        await conversion.mark("prefix:+799980", "")
        assert await conversion.counts(["prefix:+799980"], NOON - HOUR) == [(1, 0, "")]

    async def test_counts_over_many_buckets_are_the_sums_of_what_was_counted(
        self, conversion: ConversionLog
    ) -> None:
        """A walk over six hours of buckets: counts (some late, some taken
        back) and reads over windows that grow and shrink, each read equal
        to the sums of what was counted from its window's first bucket on."""
        walk, group = random.Random(61), "prefix:+7999777"
        counted: dict[int, list[int]] = {}  # bucket: [sent, verified]
        now = NOON
        for step in range(500):
            now += walk.choice([0, 1, 30, 60, 90, 400])
            kind, by = walk.choice([("sent", 1), ("sent", 1), ("verified", 1), ("sent", -1)])
            at = now - walk.choice([0, 0, 0, BUCKET, HOUR])  # now and then a late one
            await conversion.add([group], kind, at, 3 * HOUR, by=by)
            counted.setdefault(int(at // BUCKET), [0, 0])[kind == "verified"] += by
            window = walk.choice([HOUR / 2, HOUR, 2 * HOUR, 3 * HOUR])
            first = int((now - window) // BUCKET)
            inside = [sums for bucket, sums in counted.items() if bucket >= first]
            expected = (sum(s for s, _ in inside), sum(v for _, v in inside), "")
            assert await conversion.counts([group], now - window) == [expected], step
        assert now - NOON > 5 * HOUR
