"""The LoginCompletion contract, for every adapter (with the stores it works on)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

import pytest

from referrals.application.activity import CODE_VERIFIED, per_channel
from referrals.application.ports import (
    ActivityLog,
    ChallengeStore,
    ConversionLog,
    DeliveryLog,
    LoginCompletion,
    RateLimiter,
    SessionStore,
)
from referrals.domain.completion import Completed, Completion
from referrals.domain.delivery import DeliveryRecord, DeliveryStep, Step
from referrals.domain.device import Device
from referrals.domain.limits import Limit, Quota, Rule
from referrals.domain.phone import Phone
from referrals.domain.sessions import SessionInfo
from referrals.testing.clock import FakeClock
from referrals.testing.contracts.challenges import a_challenge

USER = 7
OTHER = "+79997654321"
KEEP = 3600.0
COUNTED_CHANNELS = ("telegram", "sms")
"""The channels whose logins verified a completion counts (stats reads these)."""


@dataclass(frozen=True, slots=True)
class CompletionStores:
    """A login completion and the stores it works on."""

    completion: LoginCompletion
    challenges: ChallengeStore
    sessions: SessionStore
    limiter: RateLimiter
    conversion: ConversionLog
    delivery_log: DeliveryLog
    activity: ActivityLog


def usual_quota(challenge_id: str) -> Quota:
    """A usual-network quota keyed like the real one (the phone's alias as hash tag)."""
    alias = challenge_id.partition(".")[0]
    rule = Rule("usual_test", Limit(1, KEEP), per_client=True)
    return Quota(f"test:usual:{{{alias}}}", (rule,), client="10.0.0.0/24")


def a_completion(challenge_id: str, now: float, *, marked: bool = True) -> Completion:
    session = SessionInfo(secrets.token_hex(32), now + KEEP, now, now, Device("10.0.0.0/24", "t"))
    return Completion(
        challenge_id=challenge_id,
        user_id=USER,
        session=session,
        usual=usual_quota(challenge_id),
        verified=(f"test:{secrets.token_hex(4)}", f"test:{secrets.token_hex(4)}"),
        keep=KEEP,
        mark=DeliveryStep(now, Step.VERIFIED) if marked else None,
    )


async def verified_counts(activity: ActivityLog, now: float) -> list[int]:
    """Logins verified in the hour of ``now``: in all, then per counted channel."""
    names = [CODE_VERIFIED, *(per_channel(CODE_VERIFIED, c) for c in COUNTED_CHANNELS)]
    return [await activity.count(name, now, now) for name in names]


class LoginCompletionContract:
    """The LoginCompletion contract: subclass it and give a
    ``completion_stores`` fixture (:class:`CompletionStores`)."""

    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    async def _live(
        self, stores: CompletionStores, clock: FakeClock, phone: str = "+79991234567"
    ) -> str:
        challenge = a_challenge(clock, Phone(phone))
        await stores.challenges.put(challenge, clock.now())
        return challenge.id

    async def test_a_live_login_is_consumed_with_its_session_opened_and_noted(
        self, completion_stores: CompletionStores, clock: FakeClock
    ) -> None:
        stores, now = completion_stores, clock.now()
        login = await self._live(stores, clock)
        await stores.delivery_log.open(DeliveryRecord(login, ("telegram",), "RU", now))
        completion = a_completion(login, now)
        completed = await stores.completion.complete(completion)
        assert completed.consumed
        assert await stores.sessions.get(completion.session.session_id, now) == USER
        assert not await stores.challenges.consume(login, now)
        assert completion.usual is not None  # the network is noted: one per window
        assert await stores.limiter.acquire([completion.usual], now) is not None
        counts = await stores.conversion.counts(completion.verified, now - KEEP)
        assert counts == [(0, 1, "")] * 2
        assert completed.record is not None
        assert completed.record.steps[-1] == completion.mark
        assert await stores.delivery_log.get(login) == completed.record

    async def test_a_login_without_a_delivery_record_completes_without_one(
        self, completion_stores: CompletionStores, clock: FakeClock
    ) -> None:
        login = await self._live(completion_stores, clock)
        completed = await completion_stores.completion.complete(a_completion(login, clock.now()))
        assert completed == Completed(consumed=True, record=None)

    async def test_a_login_that_is_not_live_opens_no_session(
        self, completion_stores: CompletionStores, clock: FakeClock
    ) -> None:
        stores, now = completion_stores, clock.now()
        login = await self._live(stores, clock)
        assert await stores.challenges.consume(login, now)
        completion = a_completion(login, now, marked=False)
        assert await stores.completion.complete(completion) == Completed(consumed=False)
        assert await stores.sessions.get(completion.session.session_id, now) is None

    async def test_of_concurrent_completions_exactly_one_keeps_a_session(
        self, completion_stores: CompletionStores, clock: FakeClock
    ) -> None:
        stores, now = completion_stores, clock.now()
        login = await self._live(stores, clock)
        completions = [a_completion(login, now, marked=False) for _ in range(10)]
        done = await asyncio.gather(*(stores.completion.complete(c) for c in completions))
        assert sum(completed.consumed for completed in done) == 1
        live = [await stores.sessions.get(c.session.session_id, now) for c in completions]
        assert live == [USER if completed.consumed else None for completed in done]

    async def test_only_the_consuming_completion_counts_the_login_verified(
        self, completion_stores: CompletionStores, clock: FakeClock
    ) -> None:
        stores, now = completion_stores, clock.now()
        login = await self._live(stores, clock)
        await stores.delivery_log.open(DeliveryRecord(login, ("telegram",), "RU", now))
        await stores.delivery_log.add(login, DeliveryStep(now, Step.SENT, "telegram", "m1"))
        completions = [a_completion(login, now) for _ in range(5)]
        done = await asyncio.gather(*(stores.completion.complete(c) for c in completions))
        assert sum(completed.consumed for completed in done) == 1
        assert await verified_counts(stores.activity, now) == [1, 1, 0]
        record = await stores.delivery_log.get(login)
        assert record is not None
        assert [s.step for s in record.steps].count(Step.VERIFIED) == 1

    async def test_a_login_counts_by_the_channel_that_delivered_its_code_else_the_last_that_took_it(
        self, completion_stores: CompletionStores, clock: FakeClock
    ) -> None:
        stores, now = completion_stores, clock.now()
        delivered = await self._live(stores, clock)
        sent = await self._live(stores, clock, OTHER)
        for login in (delivered, sent):
            route = ("telegram", "sms")
            await stores.delivery_log.open(DeliveryRecord(login, route, "RU", now))
            await stores.delivery_log.add(login, DeliveryStep(now, Step.SENT, "telegram", "m1"))
        await stores.delivery_log.add(delivered, DeliveryStep(now, Step.DELIVERED, "telegram"))
        await stores.delivery_log.add(sent, DeliveryStep(now, Step.SENT, "sms", "m2"))
        for login in (delivered, sent):
            completed = await stores.completion.complete(a_completion(login, now))
            assert completed.record is not None
            assert completed.record.channel == ("telegram" if login == delivered else "sms")
        assert await verified_counts(stores.activity, now) == [2, 1, 1]

    async def test_a_login_without_a_carrying_channel_counts_in_all_only(
        self, completion_stores: CompletionStores, clock: FakeClock
    ) -> None:
        stores, now = completion_stores, clock.now()
        unsent = await self._live(stores, clock)
        unrecorded = await self._live(stores, clock, OTHER)
        await stores.delivery_log.open(DeliveryRecord(unsent, ("telegram",), "RU", now))
        for login in (unsent, unrecorded):
            assert (await stores.completion.complete(a_completion(login, now))).consumed
        assert await verified_counts(stores.activity, now) == [2, 0, 0]
