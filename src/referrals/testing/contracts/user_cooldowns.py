"""The contract of a user row's re-registration cooldown (docs/account.md):
written when the user is created on a cooled-down number or moved to one,
and checked by ``apply_code``; it runs on the ``unit_of_work`` fixture of
:class:`~referrals.testing.contracts.UnitOfWorkContract`."""

from __future__ import annotations

import secrets

import pytest

from referrals.application.ports import UnitOfWorkFactory
from referrals.domain.codes import InviteCode, generate_invite_code
from referrals.domain.errors import (
    OwnReferralCode,
    ReferralCodeNotFound,
    ReferralCooldown,
    SuspectedSelfReferral,
)
from referrals.domain.integrity import CODE_BURST, Action
from referrals.domain.user import AppliedCode, User
from referrals.testing.contracts.applying import apply
from referrals.testing.contracts.unit_of_work import a_phone, new_user, reread

NOW = 1_000_000.0
UNTIL = NOW + 30 * 86_400.0


async def cooled_user(uow: UnitOfWorkFactory, until: float | None = UNTIL) -> User:
    """A user verify created on a number whose cooldown ends at ``until``."""
    async with uow(autocommit=True) as unit:
        found = await unit.users.get_or_add(
            a_phone(), generate_invite_code(), secrets.token_hex(16), 10, until
        )
        await unit.commit()
    assert found is not None
    return found[0]


async def apply_at(
    uow: UnitOfWorkFactory, user: User, code: InviteCode, now: float, refuse: bool = False
) -> AppliedCode:
    """``apply_code`` at ``now``, committed; ``refuse``: ``code_burst``
    fired with the policy's ``refuse``."""
    if refuse:
        return await apply(uow, user, code, Action.REFUSE, (CODE_BURST,), now)
    return await apply(uow, user, code, now=now)


class UserCooldownContract:
    """Subclass it and give a ``unit_of_work`` fixture (as for ``UnitOfWorkContract``)."""

    pytestmark = pytest.mark.asyncio

    async def test_a_new_user_keeps_the_numbers_cooldown_and_a_found_one_keeps_theirs(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user = await cooled_user(unit_of_work)
        assert user.cooldown_until == UNTIL
        assert (await reread(unit_of_work, user)).cooldown_until == UNTIL
        async with unit_of_work(autocommit=True) as unit:
            found = await unit.users.get_or_add(user.phone, generate_invite_code(), "t", 10)
            await unit.commit()
        assert found is not None
        assert found[0] == user
        assert (await cooled_user(unit_of_work, None)).cooldown_until is None

    async def test_a_cooled_down_user_is_refused_after_the_rules_and_before_the_signals(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user, owner = await cooled_user(unit_of_work), await new_user(unit_of_work)
        cases = [
            (InviteCode("ZZZZZZ"), False, ReferralCodeNotFound),
            (user.invite_code, False, OwnReferralCode),
            (owner.invite_code, False, ReferralCooldown),
            (owner.invite_code, True, ReferralCooldown),  # before the policy's refuse
        ]
        for code, refuse, refusal in cases:
            done = await apply_at(unit_of_work, user, code, NOW, refuse)
            assert type(done.refusal) is refusal
            assert done.page == []
        assert await reread(unit_of_work, user) == user
        assert (await reread(unit_of_work, owner)).referred_count == 0
        late = await apply_at(unit_of_work, user, owner.invite_code, UNTIL, refuse=True)
        assert type(late.refusal) is SuspectedSelfReferral  # the cooldown ended
        done = await apply_at(unit_of_work, user, owner.invite_code, UNTIL)
        assert done.refusal is None
        assert done.referrer == owner

    async def test_no_time_given_checks_no_cooldown(self, unit_of_work: UnitOfWorkFactory) -> None:
        user, owner = await cooled_user(unit_of_work), await new_user(unit_of_work)
        async with unit_of_work() as unit:
            done = await unit.users.apply_code(user.id, owner.invite_code, 10)
            await unit.commit()
        assert done.refusal is None

    async def test_a_moved_user_takes_the_new_numbers_cooldown(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user = await new_user(unit_of_work)
        for until in (UNTIL, None):
            async with unit_of_work() as unit:
                assert await unit.users.change_phone(user.id, a_phone(), until) is not None
                await unit.commit()
            assert (await reread(unit_of_work, user)).cooldown_until == until
