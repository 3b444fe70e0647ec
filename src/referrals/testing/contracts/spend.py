"""The SpendLedger contract, for every adapter."""

from __future__ import annotations

import asyncio

import pytest

from referrals.application.ports import SpendLedger
from referrals.domain.limits import Charge, Limit

NOON = 1_764_417_600.0  # 2025-11-29 12:00:00 UTC, on a minute boundary
DAY = "2025-11-29"
BUCKET = 60.0
"""The bucket the shared adapters are built with here: windows are whole buckets."""


def charge(n: int, amount: float = 4.5, at: float = NOON, country: str = "ru") -> Charge:
    return Charge(f"login-{n}", amount, at, "smsru", country, DAY)


class SpendLedgerContract:
    """The SpendLedger contract: subclass it and give a ``spend`` fixture."""

    pytestmark = pytest.mark.asyncio

    async def test_charges_pass_until_the_cap_is_reached(self, spend: SpendLedger) -> None:
        caps = [Limit(10, 3600.0)]
        results = [await spend.reserve(charge(n, 4.0, NOON + n), caps) for n in range(4)]

        assert results[:3] == [None, None, None]  # 0, 4, 8 spent: room
        assert results[3] is not None
        assert results[3] > 0

    async def test_the_cap_frees_up_as_its_window_moves_on(self, spend: SpendLedger) -> None:
        caps = [Limit(5, 3600.0)]
        assert await spend.reserve(charge(1, 5.0), caps) is None
        wait = await spend.reserve(charge(2, 1.0, NOON + 60), caps)
        assert wait is not None
        assert wait <= 3600 + BUCKET

        assert await spend.reserve(charge(3, 1.0, NOON + 3600 + 2 * BUCKET), caps) is None

    async def test_every_cap_holds(self, spend: SpendLedger) -> None:
        caps = [Limit(100, 86_400.0), Limit(6, 3600.0)]
        assert await spend.reserve(charge(1, 6.0), caps) is None
        assert await spend.reserve(charge(2, 1.0, NOON + 60), caps) is not None
        later = NOON + 3600 + 2 * BUCKET
        assert await spend.reserve(charge(3, 6.0, later), caps) is None

    async def test_a_refund_gives_the_room_back(self, spend: SpendLedger) -> None:
        caps = [Limit(5, 3600.0)]
        first = charge(1, 5.0)
        assert await spend.reserve(first, caps) is None
        await spend.refund(first)

        assert await spend.reserve(charge(2, 5.0, NOON + 1), caps) is None
        assert await spend.day(DAY) == {("smsru", "ru"): 5.0}

    async def test_a_day_refunded_to_nothing_shows_nothing(self, spend: SpendLedger) -> None:
        only = charge(1, 0.1)
        await spend.reserve(only, [Limit(5, 3600.0)])
        await spend.refund(only)

        assert await spend.day(DAY) == {}

    async def test_the_day_adds_up_by_channel_and_country(self, spend: SpendLedger) -> None:
        await spend.reserve(charge(1, 4.5), [])
        await spend.reserve(charge(2, 4.5), [])
        await spend.reserve(charge(3, 3.0, country="kz"), [])
        await spend.reserve(Charge("login-4", 1.0, NOON, "telegram", "ru", DAY), [])

        assert await spend.day(DAY) == {
            ("smsru", "ru"): 9.0,
            ("smsru", "kz"): 3.0,
            ("telegram", "ru"): 1.0,
        }
        assert await spend.day("2025-11-30") == {}

    async def test_a_burst_at_the_edge_passes_the_cap_by_less_than_one_charge(
        self, spend: SpendLedger
    ) -> None:
        caps = [Limit(100, 86_400.0)]
        assert await spend.reserve(charge(0, 95.5), caps) is None
        results = await asyncio.gather(
            *(spend.reserve(charge(n, 4.5, NOON + 1), caps) for n in range(1, 501))
        )

        passed = sum(result is None for result in results)
        total = sum((await spend.day(DAY)).values())
        assert passed == 1  # 95.5 + 4.5 = 100: the cap is reached, the other 499 refused
        assert total - 100 < 4.5
