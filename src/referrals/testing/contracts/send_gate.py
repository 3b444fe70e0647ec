"""The SendGate contract, for every adapter: a login's quotas, pumping groups
and spend decided in one step, and kept where the other ports read them."""

from __future__ import annotations

import asyncio
import random
import secrets
from dataclasses import dataclass

import pytest

from referrals.application.ports import (
    ChallengeStore,
    ConversionLog,
    RateLimiter,
    SendGate,
    SpendLedger,
)
from referrals.domain.challenge import Challenge
from referrals.domain.codes import challenge_id, new_login_token, phone_alias
from referrals.domain.limits import Charge, GroupFigures, Limit, Pumping, Quota, Rule
from referrals.domain.phone import Phone

NOON = 1_764_417_600.0  # 2025-11-29 12:00:00 UTC, on a minute boundary
DAY = "2025-11-29"
BUCKET = 60.0
"""The bucket of the conversion log and the spend ledger the gates are built with here."""
HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class GateParts:
    """A gate and the ports that read what it keeps."""

    gate: SendGate
    limiter: RateLimiter
    conversion: ConversionLog
    spend: SpendLedger
    challenges: ChallengeStore


def a_quota(count: int = 1) -> Quota:
    """A quota of ``count`` an hour, on a key of its own."""
    return Quota(f"test:{secrets.token_hex(4)}", (Rule("test", Limit(count, HOUR)),))


def pumping(*volumes: int, enforce: bool = True, names: tuple[str, ...] = ()) -> Pumping:
    """Groups of their own with these volumes, at 20 % conversion, over an hour."""
    given = names or tuple(f"prefix:+7{secrets.token_hex(4)}" for _ in volumes)
    return Pumping(tuple(zip(given, volumes, strict=True)), 0.2, HOUR, enforce)


def charge(n: int, amount: float = 1.5) -> Charge:
    return Charge(f"login-{n}", amount, NOON, "smsru", "ru", DAY)


SECRET = b"send-gate-contract-secret-012345"


def a_login(phone: str = "+79991234567") -> Challenge:
    """A new challenge for ``phone``, live for five minutes from NOON."""
    alias = phone_alias(SECRET, Phone(phone))
    login = challenge_id(SECRET, new_login_token(SECRET, alias))
    return Challenge(login, Phone(phone), f"digest-{login[-6:]}", NOON + 300, 5)


def names(check: Pumping) -> list[str]:
    return [name for name, _ in check.groups]


async def sent(parts: GateParts, check: Pumping) -> list[int]:
    """Each group's sends in the window."""
    counts = await parts.conversion.counts(names(check), NOON - HOUR)
    return [sends for sends, _, _ in counts]


class SendGateContract:
    """The SendGate contract: subclass it and give a ``gate`` fixture
    (:class:`GateParts`, empty stores).

    ``decides_all_at_once`` as in the RateLimiter contract: ``False`` for an
    adapter that decides part by part (Redis Cluster), whose bursts may pass
    fewer, never more.
    """

    pytestmark = pytest.mark.asyncio
    decides_all_at_once = True

    async def test_a_send_that_passes_is_recorded_everywhere(self, gate: GateParts) -> None:
        quota, check = a_quota(), pumping(10, 100)

        decision = await gate.gate.acquire([quota], NOON, "login-1", check, charge(1), ())

        assert decision.passed
        assert decision.throttled is None
        assert await gate.limiter.acquire([quota], NOON + 1) is not None  # taken
        assert await sent(gate, check) == [1, 1]
        assert await gate.spend.day(DAY) == {("smsru", "ru"): 1.5}

    async def test_a_quota_refusal_records_nothing(self, gate: GateParts) -> None:
        full, free, check = a_quota(), a_quota(), pumping(10)
        await gate.limiter.acquire([full], NOON)

        decision = await gate.gate.acquire([free, full], NOON, "login-1", check, charge(1), ())

        assert decision.refusal is not None
        assert decision.refusal.quota == full
        assert not decision.passed
        assert await gate.limiter.acquire([free], NOON) is None  # not taken
        assert await sent(gate, check) == [0]
        assert await gate.spend.day(DAY) == {}

    async def test_a_group_past_its_volume_refuses_with_its_figures(self, gate: GateParts) -> None:
        quota, check = a_quota(), pumping(100, 3)
        await gate.conversion.add(names(check), "sent", NOON, HOUR)
        await gate.conversion.add(names(check)[1:], "sent", NOON, HOUR)
        await gate.conversion.add(names(check)[1:], "sent", NOON, HOUR)

        decision = await gate.gate.acquire([quota], NOON, "login-1", check, charge(1), ())

        assert decision.enforced
        assert not decision.passed
        assert decision.throttled == GroupFigures(1, 3, 0, 3, "")
        assert await gate.limiter.acquire([quota], NOON) is None  # not taken
        assert await sent(gate, check) == [1, 3]
        assert await gate.spend.day(DAY) == {}

    async def test_verified_codes_raise_what_a_group_may_send(self, gate: GateParts) -> None:
        check = pumping(2)
        for _ in range(2):
            await gate.conversion.add(names(check), "sent", NOON, HOUR)
        await gate.conversion.add(names(check), "verified", NOON, HOUR)

        passed = [(await gate.gate.acquire([], NOON, f"login-{n}", check)).passed for n in range(5)]

        assert passed == [True, True, True, False, False]  # 1 verified / 20 %: 5 sends

    async def test_shadow_passes_and_counts_what_it_would_refuse(self, gate: GateParts) -> None:
        check = pumping(1, enforce=False)
        first = await gate.gate.acquire([], NOON, "login-1", check)
        second = await gate.gate.acquire([], NOON, "login-2", check)

        assert (first.passed, first.throttled) == (True, None)
        assert second.passed
        assert not second.enforced
        assert second.throttled == GroupFigures(0, 1, 0, 1, "")
        assert await sent(gate, check) == [2]

    async def test_the_most_specific_throttled_group_answers(self, gate: GateParts) -> None:
        check = pumping(1, 1, 1)
        await gate.conversion.add(names(check)[1:], "sent", NOON, HOUR)

        decision = await gate.gate.acquire([], NOON, "login-1", check)

        assert decision.throttled == GroupFigures(1, 1, 0, 1, "")

    async def test_a_pinned_group_refuses_and_a_lifted_one_never(self, gate: GateParts) -> None:
        check = pumping(1, 100)
        lifted, pinned = names(check)
        await gate.conversion.add([lifted], "sent", NOON, HOUR)
        await gate.conversion.mark(lifted, "lifted")

        assert (await gate.gate.acquire([], NOON, "login-1", check)).passed
        await gate.conversion.mark(pinned, "pinned")
        decision = await gate.gate.acquire([], NOON, "login-2", check)

        assert decision.throttled == GroupFigures(1, 1, 0, 100, "pinned")
        assert decision.enforced
        counts = await gate.conversion.counts([lifted, pinned], NOON - HOUR)
        assert counts == [(2, 0, "lifted"), (1, 0, "pinned")]

    async def test_sends_before_the_window_are_not_counted(self, gate: GateParts) -> None:
        check = pumping(1)
        await gate.conversion.add(names(check), "sent", NOON - 2 * HOUR, HOUR)

        assert (await gate.gate.acquire([], NOON, "login-1", check)).passed

    async def test_a_reached_cap_pauses_and_records_nothing(self, gate: GateParts) -> None:
        quota, check, caps = a_quota(), pumping(10), [Limit(3, HOUR)]
        assert (await gate.gate.acquire([], NOON, "login-1", None, charge(1, 3.0), caps)).passed

        decision = await gate.gate.acquire([quota], NOON, "login-2", check, charge(2), caps)

        assert decision.paused is not None
        assert decision.paused > 0
        assert not decision.passed
        assert await gate.limiter.acquire([quota], NOON) is None  # not taken
        assert await sent(gate, check) == [0]
        assert await gate.spend.day(DAY) == {("smsru", "ru"): 3.0}

    async def test_giving_back_takes_back_everything(self, gate: GateParts) -> None:
        quota, check, caps = a_quota(), pumping(10, 10), [Limit(2, HOUR)]
        assert (await gate.gate.acquire([quota], NOON, "login-1", check, charge(1), caps)).passed

        await gate.gate.give_back([quota], NOON, "login-1", check, charge(1))

        assert await sent(gate, check) == [0, 0]
        assert await gate.spend.day(DAY) == {}
        decision = await gate.gate.acquire([quota], NOON, "login-2", check, charge(2), caps)
        assert decision.passed  # the quota and the cap had room again

    async def test_a_send_that_passes_stores_its_challenge(self, gate: GateParts) -> None:
        earlier, login = a_login(), a_login()
        await gate.challenges.put(earlier, NOON)

        decision = await gate.gate.acquire(
            [a_quota()], NOON, login.id, pumping(10), charge(1), (), login
        )

        assert decision.passed
        assert await gate.challenges.get(login.id, NOON) == login
        assert await gate.challenges.get(earlier.id, NOON) is None  # superseded

    async def test_a_refused_send_leaves_the_live_challenge_alone(self, gate: GateParts) -> None:
        earlier, full, caps = a_login(), a_quota(), [Limit(1, HOUR)]
        await gate.challenges.put(earlier, NOON)
        await gate.limiter.acquire([full], NOON)
        assert (await gate.gate.acquire([], NOON, "paid", None, charge(0), caps)).passed

        for refused in (
            await gate.gate.acquire([full], NOON, "q", None, None, (), a_login()),
            await gate.gate.acquire([], NOON, "g", pumping(0), None, (), a_login()),
            await gate.gate.acquire([], NOON, "s", None, charge(1), caps, a_login()),
        ):
            assert not refused.passed
        assert await gate.challenges.get(earlier.id, NOON) == earlier

    async def test_a_burst_never_passes_a_group_or_the_cap(self, gate: GateParts) -> None:
        check, caps = pumping(10, 10), [Limit(100, HOUR)]
        decisions = await asyncio.gather(
            *(
                gate.gate.acquire([a_quota()], NOON, f"login-{n}", check, charge(n), caps)
                for n in range(200)
            )
        )
        passed = sum(decision.passed for decision in decisions)

        assert 1 <= passed <= 10
        if self.decides_all_at_once:
            assert passed == 10
        assert await sent(gate, check) == [passed, passed]
        assert await gate.spend.day(DAY) == {("smsru", "ru"): passed * 1.5}

    async def test_the_groups_sums_follow_their_window_over_many_buckets(
        self, gate: GateParts
    ) -> None:
        """A walk over six hours of minute buckets: sends counted by the
        gate, verified codes, late counts, give-backs and reads over windows
        of several lengths (one that grows, one that shrinks), each read's
        figures equal to the sums of what was counted, bucket by bucket."""
        walk, group = random.Random(20261207), f"prefix:+7{secrets.token_hex(4)}"
        await gate.conversion.mark(group, "pinned")  # every read answers the group's figures
        kept = Pumping(((group, 1),), 0.2, 3 * HOUR, enforce=False)  # counts, keeps 3 h
        counted: dict[int, list[int]] = {}  # bucket: [sent, verified]

        def expected(now: float, window: float) -> tuple[int, int]:
            first = int((now - window) // BUCKET)
            inside = [sums for bucket, sums in counted.items() if bucket >= first]
            return sum(s for s, _ in inside), sum(v for _, v in inside)

        def count(at: float, column: int, by: int = 1) -> None:
            counted.setdefault(int(at // BUCKET), [0, 0])[column] += by

        now = NOON
        for step in range(600):
            now += walk.choice([0, 1, 20, 45, 60, 90, 150, 600])
            action = walk.random()
            if action < 0.35:  # a send the gate counts (shadow: it passes)
                decision = await gate.gate.acquire([], now, f"t-{step}", kept)
                assert decision.throttled is not None
                figures = decision.throttled.sent, decision.throttled.verified
                assert figures == expected(now, 3 * HOUR), step
                count(now, 0)
            elif action < 0.45:
                await gate.conversion.add([group], "verified", now, 3 * HOUR)
                count(now, 1)
            elif action < 0.52:  # a late count, from an hour or two back
                late = now - walk.choice([BUCKET, HOUR, 2 * HOUR])
                await gate.conversion.add([group], "sent", late, 3 * HOUR)
                count(late, 0)
            elif action < 0.6 and counted:  # a send given back
                await gate.gate.give_back([], now, f"t-{step}", kept)
                count(now, 0, -1)
            else:  # a read over a window of its own (refused: nothing counted)
                window = walk.choice([HOUR / 2, HOUR, 2 * HOUR, 3 * HOUR])
                check = Pumping(((group, 1),), 0.2, window, enforce=True)
                decision = await gate.gate.acquire([], now, f"t-{step}", check)
                assert decision.throttled is not None
                figures = decision.throttled.sent, decision.throttled.verified
                assert figures == expected(now, window), (step, window)
                assert (await gate.conversion.counts([group], now - window))[0][:2] == figures
        assert now - NOON > 5 * HOUR  # the walk crossed hundreds of buckets
