"""The ChallengeStore contract, for every adapter."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from referrals.application.ports import ChallengeStore
from referrals.domain.challenge import Attempt, AttemptResult, Challenge
from referrals.domain.codes import challenge_id, new_login_token, phone_alias
from referrals.domain.phone import Phone
from referrals.testing.clock import FakeClock

PHONE = Phone("+79991234567")
OTHER_PHONE = Phone("+79997654321")
TTL = 300.0
RIGHT = "a" * 64
WRONG = "b" * 64
SECRET = b"contract-secret-" * 2


def an_id(phone: Phone = PHONE) -> str:
    """A challenge id as ``RequestCode`` makes them: from a fresh token for ``phone``."""
    return challenge_id(SECRET, new_login_token(SECRET, phone_alias(SECRET, phone)))


def a_challenge(clock: FakeClock, phone: Phone = PHONE, max_attempts: int = 5) -> Challenge:
    return Challenge(
        id=an_id(phone),
        phone=phone,
        code_digest=RIGHT,
        expires_at=clock.now() + TTL,
        max_attempts=max_attempts,
    )


async def stored(
    challenges: ChallengeStore, clock: FakeClock, phone: Phone = PHONE, max_attempts: int = 5
) -> Challenge:
    challenge = a_challenge(clock, phone, max_attempts)
    await challenges.put(challenge, clock.now())
    return challenge


async def is_gone(challenges: ChallengeStore, challenge: Challenge, now: float) -> bool:
    """Every way of looking at a challenge agrees that it is not live."""
    return (
        await challenges.get(challenge.id, now) is None
        and await challenges.attempt(challenge.id, RIGHT, now) == Attempt(AttemptResult.GONE)
        and not await challenges.consume(challenge.id, now)
    )


class ChallengeStoreContract:
    """The ChallengeStore contract: subclass it and give a ``challenges`` fixture."""

    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    async def test_a_stored_challenge_comes_back_unchanged(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        challenge = await stored(challenges, clock)
        assert await challenges.get(challenge.id, clock.now()) == challenge

    async def test_an_unknown_challenge_is_gone(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        assert await is_gone(challenges, a_challenge(clock), clock.now())

    async def test_an_id_of_the_same_phone_that_was_never_stored_is_gone(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        live = await stored(challenges, clock)
        forged = a_challenge(clock)  # the phone's alias, another token
        assert await is_gone(challenges, forged, clock.now())
        await challenges.discard(forged.id)
        assert await challenges.get(live.id, clock.now()) == live

    async def test_the_id_of_a_token_without_an_alias_is_gone(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        await stored(challenges, clock)
        malformed = Challenge(challenge_id(SECRET, secrets.token_urlsafe(32)), PHONE, RIGHT, TTL, 5)
        assert await is_gone(challenges, malformed, clock.now())

    async def test_a_challenge_is_live_until_just_before_it_expires(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        challenge = await stored(challenges, clock)
        clock.advance(TTL - 0.001)
        assert await challenges.get(challenge.id, clock.now()) == challenge
        assert await challenges.attempt(challenge.id, RIGHT, clock.now()) == Attempt(
            AttemptResult.ACCEPTED, PHONE
        )

    async def test_a_challenge_expires_at_exactly_its_expiry_time(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        challenge = await stored(challenges, clock)
        clock.advance(TTL)
        assert await is_gone(challenges, challenge, clock.now())

    async def test_an_expired_challenge_cannot_be_consumed(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        challenge = await stored(challenges, clock)
        clock.advance(TTL + 1)
        assert not await challenges.consume(challenge.id, clock.now())

    async def test_a_new_challenge_supersedes_the_phones_previous_one(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        first = await stored(challenges, clock)
        second = await stored(challenges, clock)
        assert await is_gone(challenges, first, clock.now())
        assert await challenges.get(second.id, clock.now()) == second

    async def test_challenges_of_different_phones_do_not_supersede_each_other(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        mine = await stored(challenges, clock)
        theirs = await stored(challenges, clock, phone=OTHER_PHONE)
        assert await challenges.get(mine.id, clock.now()) == mine
        assert await challenges.get(theirs.id, clock.now()) == theirs

    async def test_the_right_code_is_accepted_and_leaves_the_challenge_live(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        challenge = await stored(challenges, clock)
        for _ in range(2):
            attempt = await challenges.attempt(challenge.id, RIGHT, clock.now())
            assert attempt == Attempt(AttemptResult.ACCEPTED, PHONE)
        assert await challenges.get(challenge.id, clock.now()) == challenge

    async def test_each_wrong_code_counts_down_the_attempts_left(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        challenge = await stored(challenges, clock, max_attempts=5)
        lefts = [
            (await challenges.attempt(challenge.id, WRONG, clock.now())).attempts_left
            for _ in range(4)
        ]
        assert lefts == [4, 3, 2, 1]
        assert await challenges.attempt(challenge.id, RIGHT, clock.now()) == Attempt(
            AttemptResult.ACCEPTED, PHONE
        )

    async def test_a_wrong_code_reports_the_phone(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        challenge = await stored(challenges, clock)
        attempt = await challenges.attempt(challenge.id, WRONG, clock.now())
        assert attempt == Attempt(AttemptResult.WRONG, PHONE, 4)

    async def test_the_wrong_code_that_reaches_max_attempts_burns_the_challenge(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        challenge = await stored(challenges, clock, max_attempts=3)
        results = [await challenges.attempt(challenge.id, WRONG, clock.now()) for _ in range(3)]
        assert results[-1] == Attempt(AttemptResult.WRONG, PHONE, 0)
        assert await challenges.attempt(challenge.id, WRONG, clock.now()) == Attempt(
            AttemptResult.GONE
        )

    async def test_a_burned_challenge_refuses_even_the_right_code(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        challenge = await stored(challenges, clock, max_attempts=2)
        for _ in range(2):
            await challenges.attempt(challenge.id, WRONG, clock.now())
        assert await is_gone(challenges, challenge, clock.now())

    async def test_a_challenge_is_consumed_exactly_once(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        challenge = await stored(challenges, clock)
        assert await challenges.consume(challenge.id, clock.now())
        assert await is_gone(challenges, challenge, clock.now())

    async def test_of_twenty_concurrent_consumes_exactly_one_wins(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        challenge = await stored(challenges, clock)
        wins = await asyncio.gather(
            *(challenges.consume(challenge.id, clock.now()) for _ in range(20))
        )
        assert wins.count(True) == 1

    async def test_twenty_concurrent_wrong_codes_never_exceed_max_attempts(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        challenge = await stored(challenges, clock, max_attempts=5)
        attempts = await asyncio.gather(
            *(challenges.attempt(challenge.id, WRONG, clock.now()) for _ in range(20))
        )
        wrong = [a for a in attempts if a.result is AttemptResult.WRONG]
        assert sorted(a.attempts_left for a in wrong) == [0, 1, 2, 3, 4]
        assert [a for a in attempts if a not in wrong] == [Attempt(AttemptResult.GONE)] * 15
        assert await is_gone(challenges, challenge, clock.now())

    async def test_a_consumed_phone_can_start_a_new_challenge(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        first = await stored(challenges, clock)
        await challenges.consume(first.id, clock.now())
        second = await stored(challenges, clock)
        assert await challenges.get(second.id, clock.now()) == second

    async def test_a_discarded_challenge_is_gone(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        challenge = await stored(challenges, clock)
        await challenges.discard(challenge.id)
        assert await is_gone(challenges, challenge, clock.now())

    async def test_discarding_an_unknown_challenge_does_nothing(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        await challenges.discard(a_challenge(clock).id)

    async def test_discarding_a_superseded_challenge_leaves_the_live_one(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        first = await stored(challenges, clock)
        second = await stored(challenges, clock)
        await challenges.discard(first.id)
        assert await challenges.get(second.id, clock.now()) == second

    async def test_a_challenge_superseded_after_wrong_codes_does_not_pass_them_on(
        self, challenges: ChallengeStore, clock: FakeClock
    ) -> None:
        first = await stored(challenges, clock, max_attempts=5)
        await challenges.attempt(first.id, WRONG, clock.now())
        second = await stored(challenges, clock, max_attempts=5)
        attempt = await challenges.attempt(second.id, WRONG, clock.now())
        assert attempt == Attempt(AttemptResult.WRONG, PHONE, 4)
