"""The ConversionLog contract, for every adapter."""

from __future__ import annotations

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
