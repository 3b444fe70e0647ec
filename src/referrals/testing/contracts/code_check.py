"""The CodeCheck contract, for every adapter (with the stores it works on)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

import pytest

from referrals.application.ports import ChallengeStore, CodeCheck, Cooldowns, RateLimiter
from referrals.domain.challenge import Attempt, AttemptResult, Challenge
from referrals.domain.codes import alias_of
from referrals.domain.limits import Limit, Quota, Refusal, Rule
from referrals.testing.clock import FakeClock
from referrals.testing.contracts.challenges import PHONE, RIGHT, WRONG, a_challenge


@dataclass(frozen=True, slots=True)
class CodeCheckStores:
    """A code check and the rate limiter and challenge store it works on."""

    check: CodeCheck
    limiter: RateLimiter
    challenges: ChallengeStore
    cooldowns: Cooldowns
    """The deleted numbers' cooldowns the check reads for an accepted code."""


def address_quota(count: int = 5) -> Quota:
    return Quota(f"test:ip:{secrets.token_hex(4)}", (Rule("ip_test", Limit(count, 60)),))


def phone_quota(challenge: Challenge, count: int = 5) -> Quota:
    """A wrong-code quota keyed by the phone's alias as hash tag, as the real ones are."""
    key = f"test:{secrets.token_hex(4)}:{{{alias_of(challenge.id)}}}"
    return Quota(key, (Rule("phone_test", Limit(count, 60)),), client="10.0.0.1")


async def room(limiter: RateLimiter, quota: Quota, clock: FakeClock) -> int:
    """Events ``quota`` still takes now (stops at 20)."""
    for taken in range(20):
        if await limiter.acquire([quota], clock.now()) is not None:
            return taken
    return 20


class CodeCheckContract:
    """The CodeCheck contract: subclass it and give a ``code_check_stores``
    fixture (:class:`CodeCheckStores`)."""

    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    async def _stored(self, stores: CodeCheckStores, clock: FakeClock) -> Challenge:
        challenge = a_challenge(clock, PHONE, max_attempts=10)
        await stores.challenges.put(challenge, clock.now())
        return challenge

    async def _check(
        self,
        stores: CodeCheckStores,
        challenge: Challenge,
        digest: str,
        clock: FakeClock,
        address: Quota,
        phone: Quota,
    ) -> Attempt | Refusal:
        return await stores.check.check(
            challenge.id,
            digest,
            clock.now(),
            address=[address],
            phone=[phone],
            ticket=secrets.token_hex(8),
        )

    async def test_a_right_code_is_accepted_and_gives_the_phone_charge_back(
        self, code_check_stores: CodeCheckStores, clock: FakeClock
    ) -> None:
        challenge = await self._stored(code_check_stores, clock)
        address, phone = address_quota(), phone_quota(challenge)
        outcome = await self._check(code_check_stores, challenge, RIGHT, clock, address, phone)
        assert outcome == Attempt(AttemptResult.ACCEPTED, PHONE)
        assert await room(code_check_stores.limiter, phone, clock) == 5
        assert await room(code_check_stores.limiter, address, clock) == 4

    async def test_an_accepted_code_carries_its_phones_running_cooldown(
        self, code_check_stores: CodeCheckStores, clock: FakeClock
    ) -> None:
        challenge = await self._stored(code_check_stores, clock)
        until = clock.now() + 30 * 86_400.0
        await code_check_stores.cooldowns.start(alias_of(challenge.id), until, clock.now())
        address, phone = address_quota(), phone_quota(challenge)
        outcome = await self._check(code_check_stores, challenge, RIGHT, clock, address, phone)
        assert outcome == Attempt(AttemptResult.ACCEPTED, PHONE, cooldown_until=until)

    async def test_an_ended_cooldown_is_none_and_a_wrong_code_reads_none(
        self, code_check_stores: CodeCheckStores, clock: FakeClock
    ) -> None:
        challenge = await self._stored(code_check_stores, clock)
        alias = alias_of(challenge.id)
        await code_check_stores.cooldowns.start(alias, clock.now() + 1, clock.now())
        address, phone = address_quota(), phone_quota(challenge)
        outcome = await self._check(code_check_stores, challenge, WRONG, clock, address, phone)
        assert outcome == Attempt(AttemptResult.WRONG, PHONE, 9)
        clock.advance(1)  # the cooldown ends: its end is not after now
        outcome = await self._check(code_check_stores, challenge, RIGHT, clock, address, phone)
        assert outcome == Attempt(AttemptResult.ACCEPTED, PHONE)

    async def test_a_wrong_code_keeps_both_charges(
        self, code_check_stores: CodeCheckStores, clock: FakeClock
    ) -> None:
        challenge = await self._stored(code_check_stores, clock)
        address, phone = address_quota(), phone_quota(challenge)
        outcome = await self._check(code_check_stores, challenge, WRONG, clock, address, phone)
        assert outcome == Attempt(AttemptResult.WRONG, PHONE, 9)
        assert await room(code_check_stores.limiter, phone, clock) == 4
        assert await room(code_check_stores.limiter, address, clock) == 4

    async def test_no_live_login_gives_the_phone_charge_back(
        self, code_check_stores: CodeCheckStores, clock: FakeClock
    ) -> None:
        challenge = a_challenge(clock)  # never stored
        address, phone = address_quota(), phone_quota(challenge)
        outcome = await self._check(code_check_stores, challenge, WRONG, clock, address, phone)
        assert outcome == Attempt(AttemptResult.GONE)
        assert await room(code_check_stores.limiter, phone, clock) == 5
        assert await room(code_check_stores.limiter, address, clock) == 4

    @pytest.mark.parametrize("full", ["address", "phone"])
    async def test_a_full_quota_refuses_records_nothing_and_leaves_the_code_unlooked_at(
        self, code_check_stores: CodeCheckStores, clock: FakeClock, full: str
    ) -> None:
        challenge = await self._stored(code_check_stores, clock)
        address = address_quota(1 if full == "address" else 5)
        phone = phone_quota(challenge, 1 if full == "phone" else 5)
        filled = address if full == "address" else phone
        await code_check_stores.limiter.acquire([filled], clock.now())
        outcome = await self._check(code_check_stores, challenge, WRONG, clock, address, phone)
        assert isinstance(outcome, Refusal)
        assert outcome.rule.name == f"{'ip' if full == 'address' else 'phone'}_test"
        other = phone if full == "address" else address
        assert await room(code_check_stores.limiter, other, clock) == 5
        # The code was not looked at: no wrong attempt counted on the login.
        attempt = await code_check_stores.challenges.attempt(challenge.id, WRONG, clock.now())
        assert attempt.attempts_left == 9

    async def test_concurrent_wrong_codes_are_looked_at_no_more_than_the_limit_allows(
        self, code_check_stores: CodeCheckStores, clock: FakeClock
    ) -> None:
        challenge = await self._stored(code_check_stores, clock)
        address, phone = address_quota(50), phone_quota(challenge, 4)
        outcomes = await asyncio.gather(
            *(
                self._check(code_check_stores, challenge, WRONG, clock, address, phone)
                for _ in range(20)
            )
        )
        wrong = [o for o in outcomes if isinstance(o, Attempt)]
        assert len(wrong) == 4
        assert sorted(o.attempts_left for o in wrong) == [6, 7, 8, 9]
        assert all(isinstance(o, Refusal) for o in outcomes if o not in wrong)
