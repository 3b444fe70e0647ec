"""The ActivityLog contract, for every adapter."""

from __future__ import annotations

import pytest

from referrals.application.activity import HOUR
from referrals.application.ports import ActivityLog

NOON = 1_764_417_600.0  # 2025-11-29 12:00:00 UTC, on an hour boundary


class ActivityLogContract:
    """The ActivityLog contract: subclass it and give an ``activity`` fixture."""

    pytestmark = pytest.mark.asyncio

    async def test_nothing_counted_counts_zero(self, activity: ActivityLog) -> None:
        assert await activity.count("code_sent", NOON - 86_400, NOON) == 0

    async def test_counts_add_up_by_name(self, activity: ActivityLog) -> None:
        for _ in range(3):
            await activity.add("code_sent", NOON + 10)
        await activity.add("code_verified", NOON + 20)
        assert await activity.count("code_sent", NOON - 86_400, NOON + 60) == 3
        assert await activity.count("code_verified", NOON - 86_400, NOON + 60) == 1

    async def test_a_count_covers_every_hour_of_its_span(self, activity: ActivityLog) -> None:
        await activity.add("code_sent", NOON - 23 * HOUR + 1)
        await activity.add("code_sent", NOON - HOUR)
        await activity.add("code_sent", NOON + HOUR - 1)
        assert await activity.count("code_sent", NOON - 23 * HOUR, NOON) == 3

    async def test_hours_outside_the_span_are_not_counted(self, activity: ActivityLog) -> None:
        await activity.add("code_sent", NOON - 25 * HOUR)
        await activity.add("code_sent", NOON + 2 * HOUR)
        await activity.add("code_sent", NOON)
        assert await activity.count("code_sent", NOON - 24 * HOUR, NOON + 1) == 1
