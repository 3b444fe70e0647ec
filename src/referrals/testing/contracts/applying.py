"""The contract of ``UserRepository.apply_code`` (the rules and the write in
one step), for every adapter; it runs on the ``unit_of_work`` fixture of
:class:`~referrals.testing.contracts.UnitOfWorkContract`."""

from __future__ import annotations

import asyncio

import pytest

from referrals.application.ports import UnitOfWork, UnitOfWorkFactory
from referrals.domain.codes import InviteCode
from referrals.domain.errors import (
    OwnReferralCode,
    ReferralAlreadyApplied,
    ReferralCodeNotFound,
    ReferralCycle,
    SuspectedSelfReferral,
)
from referrals.domain.integrity import (
    CODE_BURST,
    PENDING_REVIEW,
    SAME_DEVICE,
    SAME_NETWORK,
    SIGNALS,
    Action,
    Screening,
)
from referrals.domain.logins import LoginRecord
from referrals.domain.user import AppliedCode, Referral, User
from referrals.testing.contracts.unit_of_work import in_unit, new_user, refer, reread


async def apply(
    uow: UnitOfWorkFactory,
    user: User,
    code: InviteCode,
    action: Action = Action.ALLOW,
    signals: tuple[str, ...] = (),
    now: float | None = None,
) -> AppliedCode:
    """``apply_code`` in a unit of its own, committed, again after lost races."""

    async def body(unit: UnitOfWork) -> AppliedCode:
        policy = dict.fromkeys(SIGNALS, action)
        screening = Screening(policy, signals)
        done = await unit.users.apply_code(user.id, code, 10, screening, now)
        await unit.commit()
        return done

    return await in_unit(uow, body)


class ApplyCodeContract:
    """Subclass it and give a ``unit_of_work`` fixture (as for ``UnitOfWorkContract``)."""

    pytestmark = pytest.mark.asyncio

    async def test_a_code_applied_links_the_user_and_answers_them_with_their_page(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user, owner, fan = [await new_user(unit_of_work) for _ in range(3)]
        await refer(unit_of_work, fan, user)
        done = await apply(unit_of_work, user, owner.invite_code)
        assert done.refusal is None
        assert done.referrer == owner
        assert done.user == await reread(unit_of_work, user)
        assert (done.user.referrer_id, done.user.used_invite_code) == (owner.id, owner.invite_code)
        assert done.page == [Referral(1, fan.phone)]
        assert (await reread(unit_of_work, owner)).referred_count == 1
        async with unit_of_work(read_only=True) as unit:
            found = await unit.users.profile(owner.id, 0, 10)
        assert found is not None
        assert found[1] == [Referral(1, user.phone)]

    async def test_each_rule_refuses_in_the_domains_order_and_writes_nothing(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user, owner, other = [await new_user(unit_of_work) for _ in range(3)]
        await refer(unit_of_work, owner, user)  # user is above owner now
        before = [await reread(unit_of_work, u) for u in (user, owner, other)]
        cases = [
            (user, InviteCode("ZZZZZZ"), ReferralCodeNotFound),
            (user, user.invite_code, OwnReferralCode),
            (user, owner.invite_code, ReferralCycle),
            (owner, other.invite_code, ReferralAlreadyApplied),
            (owner, InviteCode("ZZZZZZ"), ReferralAlreadyApplied),  # already, before not found
        ]
        for who, code, refusal in cases:
            done = await apply(unit_of_work, who, code)
            assert type(done.refusal) is refusal
            assert (done.user, done.referrer, done.page) == (
                await reread(unit_of_work, who),
                None,
                [],
            )
        assert [await reread(unit_of_work, u) for u in (user, owner, other)] == before

    async def test_a_held_application_links_the_user_pending_review_and_counts_nothing(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user, owner = await new_user(unit_of_work), await new_user(unit_of_work)
        done = await apply(unit_of_work, user, owner.invite_code, Action.HOLD, (SAME_NETWORK,))
        assert (done.refusal, done.referrer) == (None, owner)
        assert done.user == await reread(unit_of_work, user)
        assert (done.user.referrer_id, done.user.referral_status) == (owner.id, PENDING_REVIEW)
        assert done.user.referral_signals == (SAME_NETWORK,)
        async with unit_of_work(read_only=True) as unit:
            found = await unit.users.profile(owner.id, 0, 10)
        assert found is not None
        assert (found[0].referred_count, found[1]) == (0, [])

    async def test_a_refusing_policy_speaks_only_once_the_rules_passed(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user, owner = await new_user(unit_of_work), await new_user(unit_of_work)
        unknown = await apply(unit_of_work, user, InviteCode("ZZZZZZ"), Action.REFUSE)
        assert type(unknown.refusal) is ReferralCodeNotFound
        done = await apply(unit_of_work, user, owner.invite_code, Action.REFUSE, (SAME_DEVICE,))
        assert isinstance(done.refusal, SuspectedSelfReferral)
        assert done.refusal.signals == (SAME_DEVICE,)
        assert (done.user, done.referrer) == (user, None)
        assert await reread(unit_of_work, user) == user
        assert await reread(unit_of_work, owner) == owner

    async def test_the_login_history_gives_the_signals_and_the_policy_acts_on_them(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        owner, fan, other = [await new_user(unit_of_work) for _ in range(3)]
        async with unit_of_work() as unit:
            unit.outbox.record_login(
                LoginRecord(owner.id, 1_000.0, "198.51.100.0/24", "", "a" * 32)
            )
            await unit.commit()
        policy = {SAME_NETWORK: Action.HOLD, SAME_DEVICE: Action.REFUSE, CODE_BURST: Action.ALLOW}

        async def apply_as(user: User, network: str, device: str, since: float) -> AppliedCode:
            screening = Screening(policy, (CODE_BURST,), network, device, since)
            async with unit_of_work() as unit:
                done = await unit.users.apply_code(user.id, owner.invite_code, 10, screening)
                await unit.commit()
            return done

        refused = await apply_as(fan, "198.51.100.0/24", "a" * 32, 0.0)
        assert isinstance(refused.refusal, SuspectedSelfReferral)
        assert refused.signals == (SAME_DEVICE, SAME_NETWORK, CODE_BURST)
        assert (refused.action, await reread(unit_of_work, fan)) == (Action.REFUSE, fan)
        too_old = await apply_as(other, "198.51.100.0/24", "a" * 32, 1_500.0)
        assert (too_old.refusal, too_old.signals, too_old.action) == (
            None,
            (CODE_BURST,),
            Action.ALLOW,
        )
        held = await apply_as(fan, "198.51.100.0/24", "", 0.0)
        assert (held.signals, held.action) == ((SAME_NETWORK, CODE_BURST), Action.HOLD)
        assert held.user is not None
        assert held.user.referral_status == PENDING_REVIEW
        assert held.user.referral_signals == (SAME_NETWORK, CODE_BURST)

    async def test_a_deleted_accounts_code_is_not_found(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user, owner = await new_user(unit_of_work), await new_user(unit_of_work)
        async with unit_of_work() as unit:
            await unit.users.erase(owner.id)
            await unit.commit()
        done = await apply(unit_of_work, user, owner.invite_code)
        assert type(done.refusal) is ReferralCodeNotFound

    async def test_an_unknown_user_is_answered_as_none(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        owner = await new_user(unit_of_work)
        ghost = User(id=owner.id + 1000, phone=owner.phone, invite_code=owner.invite_code)
        assert await apply(unit_of_work, ghost, owner.invite_code) == AppliedCode(
            None, None, None, []
        )

    async def test_an_application_left_without_commit_writes_nothing(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user, owner = await new_user(unit_of_work), await new_user(unit_of_work)
        async with unit_of_work() as unit:
            done = await unit.users.apply_code(user.id, owner.invite_code, 10)
            assert done.refusal is None
        assert await reread(unit_of_work, user) == user
        assert await reread(unit_of_work, owner) == owner

    async def test_of_many_codes_applied_at_once_by_one_user_one_is(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user = await new_user(unit_of_work)
        owners = [await new_user(unit_of_work) for _ in range(8)]
        done = await asyncio.gather(*(apply(unit_of_work, user, o.invite_code) for o in owners))
        assert [d.refusal is None for d in done].count(True) == 1
        assert all(type(d.refusal) is ReferralAlreadyApplied for d in done if d.refusal)
        counts = [(await reread(unit_of_work, o)).referred_count for o in owners]
        assert sorted(counts) == [0] * 7 + [1]

    @pytest.mark.parametrize("size", [2, 3])
    async def test_users_applying_each_others_codes_at_once_never_close_a_cycle(
        self, unit_of_work: UnitOfWorkFactory, size: int
    ) -> None:
        ring = [await new_user(unit_of_work) for _ in range(size)]
        jobs = [
            apply(unit_of_work, u, ring[(i + 1) % size].invite_code) for i, u in enumerate(ring)
        ]
        done = await asyncio.gather(*jobs)
        assert [type(d.refusal) for d in done].count(ReferralCycle) == 1
        linked = [(await reread(unit_of_work, user)).referrer_id for user in ring]
        assert linked.count(None) == 1

    async def test_a_popular_code_applied_at_once_ranks_everyone_apart(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        owner = await new_user(unit_of_work)
        fans = [await new_user(unit_of_work) for _ in range(8)]
        done = await asyncio.gather(*(apply(unit_of_work, f, owner.invite_code) for f in fans))
        assert all(d.refusal is None for d in done)
        async with unit_of_work(read_only=True) as unit:
            found = await unit.users.profile(owner.id, 0, 20)
        assert found is not None
        assert found[0].referred_count == 8
        assert [r.rank for r in found[1]] == list(range(1, 9))
        assert sorted(r.phone for r in found[1]) == sorted(f.phone for f in fans)
