"""The SpendLedger contract, for every adapter."""

from __future__ import annotations

import asyncio
import random

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

    async def test_a_daily_cap_over_more_buckets_than_a_day_holds(self, spend: SpendLedger) -> None:
        """A walk of charges and refunds over two days of minute buckets (more
        than a daily cap's 1,440), under a daily and an hourly cap: each
        answer, and each refusal's wait, is what summing the buckets gives.

        A ledger sums charges per bucket and a cap's window counts every
        bucket it touches (``first = (at - window) // BUCKET``), so it
        refuses up to one bucket early, never late; a refusal's wait runs
        until the earliest bucket with something spent leaves the window.
        The amounts are halves, whose sums are exact."""
        walk = random.Random(1440)
        caps = [Limit(1500, 86_400.0), Limit(100, 3600.0)]
        buckets: dict[int, float] = {}  # what summing the buckets gives
        passed: list[Charge] = []

        def expected(at: float) -> float | None:
            firsts = [int((at - cap.window) // BUCKET) for cap in caps]
            for gone in [b for b in buckets if b < min(firsts)]:
                del buckets[gone]
            wait = 0.0
            for cap, first in zip(caps, firsts, strict=True):
                inside = {b: amount for b, amount in buckets.items() if b >= first}
                if sum(inside.values()) >= cap.count:
                    earliest = min(b for b, amount in inside.items() if amount > 0)
                    wait = max(wait, (earliest + 1) * BUCKET + cap.window - at)
            return wait or None

        at, refused = NOON, 0
        for n in range(2_400):
            at += walk.choice([10, 30, 60, 70, 110, 200])
            if passed and walk.random() < 0.1:
                back = passed.pop(walk.randrange(len(passed)))
                await spend.refund(back)
                bucket = int(back.at // BUCKET)
                if bucket in buckets:
                    buckets[bucket] -= back.amount
            amount = walk.choice([0.5, 1.0, 1.5, 4.5])
            this = Charge(f"walk-{n}", amount, at, "smsru", "ru", DAY)
            want = expected(at)
            got = await spend.reserve(this, caps)
            if want is None:
                assert got is None, n
                bucket = int(at // BUCKET)
                buckets[bucket] = buckets.get(bucket, 0.0) + amount
                passed.append(this)
            else:
                assert got == pytest.approx(want, abs=1e-6), n
                refused += 1
        assert (at - NOON) // BUCKET > 2 * 1440
        assert 100 < refused < 2_000  # both caps were reached, and freed up
