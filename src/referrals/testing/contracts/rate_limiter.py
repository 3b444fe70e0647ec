"""The RateLimiter contract, for every adapter."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from referrals.application.ports import RateLimiter
from referrals.domain.limits import Limit, Quota, Refusal, Rule
from referrals.testing.clock import FakeClock


def a_quota(count: int, window: float, *, counted: bool = True, name: str = "test") -> Quota:
    """A quota with one rule, on a key of its own."""
    return Quota(f"test:{secrets.token_hex(4)}", (Rule(name, Limit(count, window)),), count=counted)


def checked(quota: Quota) -> Quota:
    """The same quota, only checked (``count=False``)."""
    return Quota(quota.key, quota.rules, quota.client, count=False)


def from_client(quota: Quota, client: str) -> Quota:
    return Quota(quota.key, quota.rules, client, quota.count)


async def passes(limiter: RateLimiter, quotas: list[Quota], clock: FakeClock) -> int:
    """How many acquisitions in a row succeed now (stops at the first refusal, or 100)."""
    for taken in range(100):
        if await limiter.acquire(quotas, clock.now()) is not None:
            return taken
    return 100


class RateLimiterContract:
    """The RateLimiter contract: subclass it and give a ``limiter`` fixture.

    ``decides_all_at_once`` says whether the adapter decides every quota of
    an acquisition in one atomic step (then bursts over several quotas pass
    exactly up to the tightest limit) or quota by quota (then they may pass
    fewer, never more); set it to ``False`` in the subclass for the latter.
    """

    pytestmark = pytest.mark.asyncio
    decides_all_at_once = True

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
        assert refusal == Refusal(quota, quota.rules[0], 30)

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
        assert await limiter.acquire([quota], clock.now()) == Refusal(quota, quota.rules[0], 30)

    async def test_a_refusal_names_the_quota_and_rule_with_the_longest_wait(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        short, long_, roomy = a_quota(1, 10), a_quota(1, 100, name="long"), a_quota(5, 100)
        await limiter.acquire([short, long_], clock.now())
        refusal = await limiter.acquire([short, roomy, long_], clock.now())
        assert refusal == Refusal(long_, long_.rules[0], 100)
        assert refusal.rule.name == "long"
        clock.advance(10)
        refusal = await limiter.acquire([roomy, long_, short], clock.now())
        assert refusal == Refusal(long_, long_.rules[0], 90)

    async def test_every_rule_of_a_quota_holds_and_the_slowest_to_free_answers(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        minute, day = Rule("cooldown", Limit(1, 60)), Rule("daily", Limit(3, 86_400))
        quota = Quota(f"test:{secrets.token_hex(4)}", (minute, day))
        for _ in range(2):
            assert await limiter.acquire([quota], clock.now()) is None
            assert await limiter.acquire([quota], clock.now()) == Refusal(quota, minute, 60)
            clock.advance(60)
        assert await limiter.acquire([quota], clock.now()) is None
        # Both rules refuse now; the day frees up later, so it answers.
        assert await limiter.acquire([quota], clock.now()) == Refusal(quota, day, 86_400 - 120)
        clock.advance(60)
        assert await limiter.acquire([quota], clock.now()) == Refusal(quota, day, 86_400 - 180)

    async def test_a_per_client_rule_counts_only_that_clients_events(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        everyone, each = Rule("phone", Limit(5, 3600)), Rule("phone_ip", Limit(2, 3600), True)
        quota = Quota(f"test:{secrets.token_hex(4)}", (everyone, each))
        alice, bob, carol = (from_client(quota, c) for c in ("10.0.0.1", "10.0.0.2", "10.0.0.3"))
        assert await passes(limiter, [alice], clock) == 2
        clock.advance(10)
        assert await limiter.acquire([alice], clock.now()) == Refusal(alice, each, 3590)
        assert await passes(limiter, [bob], clock) == 2
        assert await passes(limiter, [carol], clock) == 1  # five in all: the phone's rule
        assert await limiter.acquire([carol], clock.now()) == Refusal(carol, everyone, 3590)

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
        peek = checked(counted)
        assert await passes(limiter, [peek], clock) == 100
        assert await passes(limiter, [counted], clock) == 2
        refusal = await limiter.acquire([peek], clock.now())
        assert refusal == Refusal(peek, peek.rules[0], 60)

    async def test_a_full_uncounted_quota_blocks_the_counted_ones(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        locked = a_quota(1, 60)
        await limiter.acquire([locked], clock.now())
        other = a_quota(5, 60)
        assert await limiter.acquire([checked(locked), other], clock.now()) is not None
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

    async def test_a_refund_of_some_quotas_leaves_the_others_taken(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        attempts, failures = a_quota(1, 60), a_quota(1, 60)
        await limiter.acquire([attempts, failures], clock.now(), ticket="right-code")
        await limiter.refund([failures], "right-code")
        assert await limiter.acquire([failures], clock.now()) is None
        assert await limiter.acquire([attempts], clock.now()) is not None

    async def test_a_per_client_event_is_refunded_by_its_ticket(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        rule = Rule("phone_ip", Limit(1, 60), per_client=True)
        quota = Quota(f"test:{secrets.token_hex(4)}", (rule,), client="2001:db8::/64")
        await limiter.acquire([quota], clock.now(), ticket="t-1")
        await limiter.refund([quota], "t-1")
        assert await limiter.acquire([quota], clock.now()) is None

    async def test_a_reset_forgets_every_event_of_its_keys(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        locked, other, kept = a_quota(1, 86_400), a_quota(1, 86_400), a_quota(1, 86_400)
        await limiter.acquire([locked, other, kept], clock.now())
        await limiter.reset([locked.key, other.key, "test:never-used"])
        assert await limiter.acquire([locked, other], clock.now()) is None
        assert await limiter.acquire([kept], clock.now()) is not None
        await limiter.reset([])

    async def test_an_acquisition_of_no_quotas_always_passes(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        assert await limiter.acquire([], clock.now()) is None
        await limiter.refund([], "nothing")

    async def test_of_two_hundred_concurrent_acquisitions_on_a_limit_of_ten_exactly_ten_pass(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        quota = a_quota(10, 60)
        results = await asyncio.gather(*(limiter.acquire([quota], clock.now()) for _ in range(200)))
        assert results.count(None) == 10
        assert await passes(limiter, [quota], clock) == 0

    async def test_concurrent_bursts_over_several_quotas_never_exceed_a_rule(
        self, limiter: RateLimiter, clock: FakeClock
    ) -> None:
        tight, roomy = a_quota(10, 60), a_quota(100, 60)
        per_client = Rule("pair", Limit(3, 60), per_client=True)
        shared = Quota(f"test:{secrets.token_hex(4)}", (per_client,))
        bursts = [[roomy, tight, from_client(shared, f"10.0.0.{i % 4}")] for i in range(200)]
        results = await asyncio.gather(*(limiter.acquire(b, clock.now()) for b in bursts))
        passed = [b for b, r in zip(bursts, results, strict=True) if r is None]
        assert len(passed) <= 10
        for client in {b[2].client for b in passed}:
            assert sum(b[2].client == client for b in passed) <= 3
        if self.decides_all_at_once:
            assert len(passed) == 10
        # Whatever was refused left nothing behind: the rooms add up.
        assert await passes(limiter, [roomy], clock) == 100 - len(passed)
        assert await passes(limiter, [tight], clock) == 10 - len(passed)
