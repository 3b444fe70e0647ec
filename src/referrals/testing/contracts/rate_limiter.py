"""The RateLimiter contract, for every adapter."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from referrals.application.ports import Limit, Quota, RateLimiter, Refusal
from referrals.testing.clock import FakeClock


def a_quota(count: int, window: float, *, counted: bool = True) -> Quota:
    return Quota(f"test:{secrets.token_hex(4)}", Limit(count, window), count=counted)


async def passes(limiter: RateLimiter, quotas: list[Quota], clock: FakeClock) -> int:
    """How many acquisitions in a row succeed now (stops at the first refusal, or 100)."""
    for taken in range(100):
        if await limiter.acquire(quotas, clock.now()) is not None:
            return taken
    return 100


class RateLimiterContract:
    """The RateLimiter contract: subclass it and give a ``limiter`` fixture."""

    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    async def test_a_quota_takes_events_up_to_its_count(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        quota = a_quota(3, 60)
        assert await passes(limiter, [quota], clock) == 3

    async def test_a_full_quota_refuses_until_its_oldest_counted_event_leaves(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        quota = a_quota(3, 60)
        for _ in range(3):
            assert await limiter.acquire([quota], clock.now()) is None
            clock.advance(10)
        refusal = await limiter.acquire([quota], clock.now())
        assert refusal == Refusal(quota, 30)

    async def test_the_window_slides_events_out_at_exactly_window_seconds(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        quota = a_quota(2, 60)
        await limiter.acquire([quota], clock.now())
        clock.advance(30)
        await limiter.acquire([quota], clock.now())
        clock.advance(29.5)
        assert await limiter.acquire([quota], clock.now()) is not None
        clock.advance(0.5)  # the first event is exactly one window old now
        assert await limiter.acquire([quota], clock.now()) is None
        assert await limiter.acquire([quota], clock.now()) == Refusal(quota, 30)

    async def test_a_refusal_names_the_quota_with_the_longest_wait(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        short, long_, roomy = a_quota(1, 10), a_quota(1, 100), a_quota(5, 100)
        await limiter.acquire([short, long_], clock.now())
        refusal = await limiter.acquire([short, roomy, long_], clock.now())
        assert refusal == Refusal(long_, 100)
        clock.advance(10)
        refusal = await limiter.acquire([roomy, long_, short], clock.now())
        assert refusal == Refusal(long_, 90)

    async def test_a_refusal_records_nothing_on_any_quota(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        full, roomy = a_quota(1, 60), a_quota(3, 60)
        await limiter.acquire([full], clock.now())
        for _ in range(5):
            assert await limiter.acquire([roomy, full], clock.now()) is not None
        assert await passes(limiter, [roomy], clock) == 3

    async def test_an_acquisition_takes_one_event_from_every_quota(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        first, second = a_quota(2, 60), a_quota(2, 60)
        for _ in range(2):
            await limiter.acquire([first, second], clock.now())
        assert await limiter.acquire([first], clock.now()) is not None
        assert await limiter.acquire([second], clock.now()) is not None

    async def test_quotas_on_different_keys_are_counted_apart(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        mine, theirs = a_quota(1, 60), a_quota(1, 60)
        await limiter.acquire([mine], clock.now())
        assert await limiter.acquire([theirs], clock.now()) is None

    async def test_an_uncounted_quota_is_checked_but_records_nothing(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        counted = a_quota(2, 60)
        checked = Quota(counted.key, counted.limit, count=False)
        assert await passes(limiter, [checked], clock) == 100
        assert await passes(limiter, [counted], clock) == 2
        refusal = await limiter.acquire([checked], clock.now())
        assert refusal == Refusal(checked, 60)

    async def test_a_full_uncounted_quota_blocks_the_counted_ones(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        locked = a_quota(1, 60)
        await limiter.acquire([locked], clock.now())
        other = a_quota(5, 60)
        check = Quota(locked.key, locked.limit, count=False)
        assert await limiter.acquire([check, other], clock.now()) is not None
        assert await passes(limiter, [other], clock) == 5

    async def test_a_refund_forgets_the_events_of_its_ticket(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        first, second = a_quota(1, 60), a_quota(1, 60)
        assert await limiter.acquire([first, second], clock.now(), ticket="t-1") is None
        await limiter.refund([first, second], "t-1")
        assert await limiter.acquire([first, second], clock.now(), ticket="t-2") is None

    async def test_a_refund_keeps_the_events_of_other_tickets(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        quota = a_quota(3, 60)
        await limiter.acquire([quota], clock.now(), ticket="kept")
        await limiter.acquire([quota], clock.now(), ticket="refunded")
        await limiter.acquire([quota], clock.now())
        await limiter.refund([quota], "refunded")
        assert await passes(limiter, [quota], clock) == 1
        await limiter.refund([quota], "never-taken")
        assert await passes(limiter, [quota], clock) == 0

    async def test_an_acquisition_of_no_quotas_always_passes(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        assert await limiter.acquire([], clock.now()) is None
        await limiter.refund([], "nothing")

    async def test_of_fifty_concurrent_acquisitions_on_a_limit_of_ten_exactly_ten_pass(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        quota, other = a_quota(10, 60), a_quota(100, 60)
        results = await asyncio.gather(
            *(limiter.acquire([other, quota], clock.now()) for _ in range(50))
        )
        assert results.count(None) == 10
        assert await passes(limiter, [other], clock) == 90
