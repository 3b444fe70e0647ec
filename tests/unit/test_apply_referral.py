import asyncio
import itertools

import pytest

from referrals.application.errors import NotAuthenticated, RateLimited, TooManyAttempts
from referrals.domain.codes import InviteCode, phone_alias
from referrals.domain.errors import (
    InvalidInviteCode,
    OwnReferralCode,
    ReferralAlreadyApplied,
    ReferralCodeNotFound,
    ReferralCooldown,
    ReferralCycle,
)
from referrals.domain.phone import Phone
from referrals.domain.user import COOLDOWN_UNKNOWN
from tests.unit.conftest import SECRET, World


async def users(world: World, count: int, first: int = 0) -> list[tuple[int, str]]:
    """Sign in ``count`` new users; return (id, invite code) of each."""
    found = []
    for i in range(first, first + count):
        profile = (await world.sign_in(f"+7999100{i:04d}", ip=f"10.2.{i // 200}.{i % 200}")).profile
        found.append((profile.id, profile.invite_code))
    return found


async def test_applying_a_code_links_both_profiles(world: World) -> None:
    (a, _), (b, b_code) = await users(world, 2)
    profile = await world.apply_referral(a, b_code.lower())
    assert profile.used_invite_code == b_code
    referrer = await world.get_profile(b)
    assert referrer.referred_phones == (profile.phone,)
    assert referrer.referred_count == 1


async def test_a_code_can_be_applied_only_once(world: World) -> None:
    (a, _), (_, b_code), (_, c_code) = await users(world, 3)
    await world.apply_referral(a, b_code)
    with pytest.raises(ReferralAlreadyApplied):
        await world.apply_referral(a, c_code)
    assert (await world.get_profile(a)).used_invite_code == b_code


async def test_ones_own_code_is_refused(world: World) -> None:
    [(a, a_code)] = await users(world, 1)
    with pytest.raises(OwnReferralCode):
        await world.apply_referral(a, a_code)


async def test_an_unknown_code_is_refused(world: World) -> None:
    [(a, _)] = await users(world, 1)
    with pytest.raises(ReferralCodeNotFound):
        await world.apply_referral(a, "ZZZZZZ")


async def test_a_malformed_code_is_invalid_input(world: World) -> None:
    [(a, _)] = await users(world, 1)
    with pytest.raises(InvalidInviteCode):
        await world.apply_referral(a, "nope")


async def test_a_cycle_of_two_is_refused(world: World) -> None:
    (a, a_code), (b, b_code) = await users(world, 2)
    await world.apply_referral(a, b_code)
    with pytest.raises(ReferralCycle):
        await world.apply_referral(b, a_code)


async def test_a_cycle_of_three_is_refused(world: World) -> None:
    (a, a_code), (b, b_code), (c, c_code) = await users(world, 3)
    await world.apply_referral(a, b_code)  # B referred A
    await world.apply_referral(b, c_code)  # C referred B
    with pytest.raises(ReferralCycle):
        await world.apply_referral(c, a_code)  # A referring C would close A→B→C→A


async def test_a_cycle_of_any_length_is_refused_but_a_chain_may_grow(world: World) -> None:
    members = await users(world, 6)
    for (user, _), (_, code) in itertools.pairwise(members):
        await world.apply_referral(user, code)  # each is referred by the next
    (bottom, bottom_code), (top, _) = members[0], members[-1]
    with pytest.raises(ReferralCycle):
        await world.apply_referral(top, bottom_code)
    [(newcomer, _)] = await users(world, 1, first=6)
    await world.apply_referral(newcomer, bottom_code)
    assert (await world.get_profile(bottom)).referred_count == 1


async def test_ten_unknown_codes_an_hour_then_the_user_must_wait(world: World) -> None:
    (a, _), (_, b_code) = await users(world, 2)
    for i in range(10):
        with pytest.raises(ReferralCodeNotFound):
            await world.apply_referral(a, f"ZZZZZ{i}")
    with pytest.raises(RateLimited) as refused:
        await world.apply_referral(a, b_code)
    assert isinstance(refused.value, TooManyAttempts)
    world.clock.advance(3600)
    await world.apply_referral(a, b_code)


async def test_a_missing_user_is_not_authenticated(world: World) -> None:
    [(_, code)] = await users(world, 1)
    with pytest.raises(NotAuthenticated):
        await world.apply_referral(999, code)


async def test_concurrent_applications_by_one_user_have_one_winner(world: World) -> None:
    members = await users(world, 6)
    (a, _), others = members[0], members[1:]
    results = await asyncio.gather(
        *(world.apply_referral(a, code) for _, code in others), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, ReferralAlreadyApplied) for r in results if r not in winners)
    counts = [(await world.get_profile(u)).referred_count for u, _ in others]
    assert sum(counts) == 1


async def test_mutual_applications_never_both_succeed(world: World) -> None:
    for round_ in range(10):
        (a, a_code), (b, b_code) = await users(world, 2, first=2 * round_)
        results = await asyncio.gather(
            world.apply_referral(a, b_code),
            world.apply_referral(b, a_code),
            return_exceptions=True,
        )
        assert sum(not isinstance(r, BaseException) for r in results) == 1
        assert any(isinstance(r, ReferralCycle) for r in results)


async def test_a_non_ascii_look_alike_of_a_code_is_refused_not_applied(world: World) -> None:
    """Issue 9 item 6: "\u0131" (dotless i) upper-cased to "I", read as "1", and
    "\u017f" (long s) to "S": a code nobody was given matched a real one."""
    async with world.users.unit_of_work() as uow:
        await uow.users.add(Phone("+79990001122"), InviteCode("1SAB2C"), "test")
        await uow.commit()
    [(a, _)] = await users(world, 1)

    with pytest.raises(InvalidInviteCode):
        await world.apply_referral(a, "\u0131\u017fAB2C")

    assert (await world.apply_referral(a, " 1sab2c ")).used_invite_code == "1SAB2C"


async def test_a_row_from_before_the_cooldown_column_asks_the_cooldowns_store(
    world: World,
) -> None:
    """Migration 0008 marks who had not applied ``COOLDOWN_UNKNOWN``: their
    number's cooldown is read from the store, as before the column."""
    (a, _), (_, b_code) = await users(world, 2)
    phone = Phone("+79995550000")
    async with world.users.unit_of_work() as unit:
        assert await unit.users.change_phone(a, phone, COOLDOWN_UNKNOWN) is not None
        await unit.commit()
    cooldowns = world.apply_referral.cooldowns
    assert cooldowns is not None
    now = world.clock.now()
    await cooldowns.start(phone_alias(SECRET, phone), now + 60, now)
    with pytest.raises(ReferralCooldown):
        await world.apply_referral(a, b_code)
    assert (await world.get_profile(a)).used_invite_code is None
    world.clock.advance(60)
    assert (await world.apply_referral(a, b_code)).used_invite_code == b_code
