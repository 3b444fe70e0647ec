"""The held referrals contract (docs/rules.md, "Referral integrity"):
``UserRepository.set_referrer(held=…)``, ``held_referrals``,
``approve_referral``, ``void_referral`` and ``shared_logins``, for every
adapter of the unit of work."""

from __future__ import annotations

import pytest

from referrals.application.ports import UnitOfWorkFactory
from referrals.domain.integrity import PENDING_REVIEW
from referrals.domain.logins import LoginRecord
from referrals.domain.user import User
from referrals.testing.contracts.login_history import record
from referrals.testing.contracts.unit_of_work import new_user, refer, referrals

SIGNALS = ("same_device", "same_network")


async def hold(uow: UnitOfWorkFactory, user: User, referrer: User) -> None:
    async with uow() as unit:
        locked = await unit.users.lock(user.id)
        assert locked is not None
        await unit.users.set_referrer(locked, referrer, signals=SIGNALS, held=True)
        await unit.commit()


async def reread(uow: UnitOfWorkFactory, user_id: int) -> User:
    async with uow(read_only=True) as unit:
        user = await unit.users.get(user_id)
    assert user is not None
    return user


class ReferralReviewContract:
    """Held referrals: subclass it and give a ``unit_of_work`` fixture
    (a factory of units on an empty store)."""

    pytestmark = pytest.mark.asyncio

    async def test_a_held_referral_links_the_user_but_is_not_among_the_owners(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        owner, fan = await new_user(unit_of_work), await new_user(unit_of_work)
        await hold(unit_of_work, fan, owner)

        held = await reread(unit_of_work, fan.id)
        assert (held.referrer_id, held.used_invite_code) == (owner.id, owner.invite_code)
        assert (held.referral_status, held.referral_signals) == (PENDING_REVIEW, SIGNALS)
        assert (await reread(unit_of_work, owner.id)).referred_count == 0
        async with unit_of_work(read_only=True) as unit:
            assert await referrals(unit, owner.id, 0, 10) == []
            assert await unit.users.held_referrals(0, 10) == [held]
            assert await unit.users.held_referrals(fan.id, 10) == []
            assert (await unit.users.totals(0.0, 10)).referrals == 0  # not yet

    async def test_approving_ranks_it_after_those_applied_meanwhile(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        owner = await new_user(unit_of_work)
        held, applied = await new_user(unit_of_work), await new_user(unit_of_work)
        await hold(unit_of_work, held, owner)
        await refer(unit_of_work, applied, owner)

        async with unit_of_work() as unit:
            was = await unit.users.approve_referral(held.id)
            await unit.commit()

        assert was is not None
        assert was.referral_status == PENDING_REVIEW
        now = await reread(unit_of_work, held.id)
        assert (now.referral_status, now.referral_signals) == (None, SIGNALS)
        assert (await reread(unit_of_work, owner.id)).referred_count == 2
        async with unit_of_work(read_only=True) as unit:
            page = await referrals(unit, owner.id, 0, 10)
            assert [r.phone for r in page] == [applied.phone, held.phone]
            assert await unit.users.held_referrals(0, 10) == []
            assert (await unit.users.totals(0.0, 10)).referrals == 2
        async with unit_of_work() as unit:
            assert await unit.users.approve_referral(held.id) is None
            assert await unit.users.void_referral(held.id) is None

    async def test_voiding_unlinks_it_and_the_user_may_be_referred_again(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        owner, fan, other = [await new_user(unit_of_work) for _ in range(3)]
        await hold(unit_of_work, fan, owner)

        async with unit_of_work() as unit:
            assert await unit.users.void_referral(fan.id) is not None
            await unit.commit()

        voided = await reread(unit_of_work, fan.id)
        assert (voided.referrer_id, voided.used_invite_code, voided.referral_status) == (
            None,
            None,
            None,
        )
        await refer(unit_of_work, voided, other)
        assert (await reread(unit_of_work, fan.id)).referrer_id == other.id

    async def test_an_approval_that_does_not_commit_changes_nothing(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        owner, fan = await new_user(unit_of_work), await new_user(unit_of_work)
        await hold(unit_of_work, fan, owner)
        async with unit_of_work() as unit:
            await unit.users.approve_referral(fan.id)

        assert (await reread(unit_of_work, fan.id)).referral_status == PENDING_REVIEW
        assert (await reread(unit_of_work, owner.id)).referred_count == 0

    async def test_shared_logins_compare_the_owners_with_the_appliers(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        owner, fan = await new_user(unit_of_work), await new_user(unit_of_work)
        await record(
            unit_of_work,
            LoginRecord(owner.id, 1_000.0, "198.51.100.0/24", "", "a" * 32),
            LoginRecord(fan.id, 1_000.0, "203.0.113.0/24", "", "b" * 32),
        )
        code = owner.invite_code

        async with unit_of_work(read_only=True) as unit:
            shared = unit.users.shared_logins
            assert await shared(fan.id, code, "198.51.100.0/24", "", 0.0) == (True, False)
            assert await shared(fan.id, code, "203.0.113.0/24", "a" * 32, 0.0) == (False, True)
            assert await shared(fan.id, code, "", "", 0.0) == (False, False)
            assert await shared(fan.id, code, "198.51.100.0/24", "a" * 32, 1_500.0) == (
                False,
                False,
            )
        await record(unit_of_work, LoginRecord(fan.id, 2_000.0, "", "", "a" * 32))
        async with unit_of_work(read_only=True) as unit:
            # The applier logged in with the owner's device: same device from anywhere.
            assert await unit.users.shared_logins(fan.id, code, "", "", 0.0) == (False, True)
            assert await unit.users.shared_logins(owner.id, fan.invite_code, "", "", 0.0) == (
                False,
                True,
            )
