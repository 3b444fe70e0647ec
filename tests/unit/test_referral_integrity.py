"""Referral integrity (docs/rules.md): self-referral signals, the policy's
actions, and an operator's review, on the in-memory adapters."""

from __future__ import annotations

from typing import Any

import pytest

from referrals.application.events import Event, ReferralApplied, ReferralDecided
from referrals.application.operations import ReviewReferrals, UserNotFound
from referrals.application.verify import VerifyCode
from referrals.domain.errors import (
    ReferralAlreadyApplied,
    ReferralCycle,
    SuspectedSelfReferral,
)
from referrals.domain.integrity import (
    CODE_BURST,
    SAME_DEVICE,
    SAME_NETWORK,
    Action,
    decide,
    device_id,
    device_key,
    parse_policy,
)
from referrals.domain.limits import Limit
from referrals.settings import SettingsError, load_settings
from tests.unit.conftest import World

DAY = 86_400.0
DEVICE = "farm-phone-0000000001"


async def member(world: World, number: int, ip: str, device: str | None = None) -> tuple[int, str]:
    """Sign in +7916NNN0NNN from ``ip`` with ``device``; (id, invite code).
    Each number is in a block of its own (``prefix_send`` stays out of it)."""
    token, code = await world.login(f"+7916{number:03d}0{number:03d}", ip)
    verified = await world.verify(
        VerifyCode(token=token, code=code, client_ip=ip, device_id=device)
    )
    return verified.profile.id, verified.profile.invite_code


def recorder(world: World) -> list[Event]:
    seen: list[Event] = []

    async def keep(event: Any) -> None:
        seen.append(event)

    world.events.add(ReferralDecided, keep)
    world.events.add(ReferralApplied, keep)
    return seen


def applied_rows(world: World) -> list[dict[str, Any]]:
    return [row.data for row in world.users.outbox.rows if row.type == "referral.applied"]


def review(world: World) -> ReviewReferrals:
    return ReviewReferrals(world.users.unit_of_work, world.clock, world.events)


async def test_an_applier_on_the_owners_network_is_held_and_nothing_is_announced(
    world: World,
) -> None:
    seen = recorder(world)
    owner, code = await member(world, 1, "5.1.2.3")
    applier, _ = await member(world, 2, "5.1.2.9")

    profile = await world.apply_referral(applier, code, client_ip="5.1.2.9")

    assert profile.used_invite_code == code
    assert profile.used_referral_status == "pending_review"
    theirs = await world.get_profile(owner)
    assert (theirs.referred_phones, theirs.referred_count) == ((), 0)
    assert applied_rows(world) == []
    assert seen == [
        ReferralDecided(
            at=world.clock.now(),
            user_id=applier,
            invite_code=code,
            decision="held",
            signals=(SAME_NETWORK,),
        )
    ]


async def test_strangers_apply_outright_with_no_signals(world: World) -> None:
    owner, code = await member(world, 1, "5.1.2.3", "owner-device-000000001")
    applier, _ = await member(world, 2, "46.7.8.9", "other-device-000000001")

    profile = await world.apply_referral(
        applier, code, client_ip="46.7.8.9", device_id="other-device-000000001"
    )

    assert profile.used_referral_status == "applied"
    assert (await world.get_profile(owner)).referred_count == 1
    [row] = applied_rows(world)
    assert row["signals"] == []
    assert row["user_id"] == applier


async def test_a_device_the_owner_logged_in_with_is_same_device(world: World) -> None:
    _, code = await member(world, 1, "5.1.2.3", DEVICE)
    applier, _ = await member(world, 2, "46.7.8.9", DEVICE)

    # Applied from elsewhere, without the device: the applier's login had it.
    profile = await world.apply_referral(applier, code, client_ip="81.1.1.1")

    assert profile.used_referral_status == "pending_review"
    [held] = await review(world).held()
    assert held.referral_signals == (SAME_DEVICE,)


async def test_the_device_the_applier_applies_with_counts_too(world: World) -> None:
    _, code = await member(world, 1, "5.1.2.3", DEVICE)
    applier, _ = await member(world, 2, "46.7.8.9")

    await world.apply_referral(applier, code, client_ip="81.1.1.1", device_id=DEVICE)

    [held] = await review(world).held()
    assert held.referral_signals == (SAME_DEVICE,)


async def test_a_burst_of_one_code_from_one_network_is_flagged_past_the_limit(
    world: World,
) -> None:
    _, code = await member(world, 1, "5.1.2.3")
    statuses = []
    for i in range(4):
        applier, _ = await member(world, 10 + i, f"46.7.{i}.9")
        profile = await world.apply_referral(applier, code, client_ip=f"91.1.1.{i}")
        statuses.append(profile.used_referral_status)

    assert statuses == ["applied", "applied", "pending_review", "pending_review"]
    held = await review(world).held()
    assert [u.referral_signals for u in held] == [(CODE_BURST,), (CODE_BURST,)]


async def test_a_refusing_policy_refuses_and_records_nothing(world: World) -> None:
    world = world.with_policy(referral_policy={SAME_NETWORK: "refuse"})
    seen = recorder(world)
    _, code = await member(world, 1, "5.1.2.3")
    applier, _ = await member(world, 2, "5.1.2.9")
    _, other_code = await member(world, 3, "46.7.8.9")

    with pytest.raises(SuspectedSelfReferral) as refused:
        await world.apply_referral(applier, code, client_ip="5.1.2.9")

    assert refused.value.code == "referral_refused"
    assert (await world.get_profile(applier)).used_invite_code is None
    assert [(e.decision, e.signals) for e in seen if isinstance(e, ReferralDecided)] == [
        ("refused", (SAME_NETWORK,))
    ]
    profile = await world.apply_referral(applier, other_code, client_ip="5.1.2.9")
    assert profile.used_invite_code == other_code


async def test_an_allowing_policy_applies_and_names_the_signal(world: World) -> None:
    world = world.with_policy(referral_policy={SAME_NETWORK: "allow"})
    _, code = await member(world, 1, "5.1.2.3")
    applier, _ = await member(world, 2, "5.1.2.9")

    profile = await world.apply_referral(applier, code, client_ip="5.1.2.9")

    assert profile.used_referral_status == "applied"
    [row] = applied_rows(world)
    assert row["signals"] == [SAME_NETWORK]


async def test_a_held_referral_blocks_another_code_and_counts_for_cycles(world: World) -> None:
    owner, code = await member(world, 1, "5.1.2.3")
    applier, applier_code = await member(world, 2, "5.1.2.9")
    _, other_code = await member(world, 3, "46.7.8.9")
    await world.apply_referral(applier, code, client_ip="5.1.2.9")

    with pytest.raises(ReferralAlreadyApplied):
        await world.apply_referral(applier, other_code, client_ip="46.7.8.9")
    with pytest.raises(ReferralCycle):
        await world.apply_referral(owner, applier_code, client_ip="46.7.8.9")


async def test_approving_counts_it_and_writes_the_event_with_its_signals(world: World) -> None:
    seen = recorder(world)
    owner, code = await member(world, 1, "5.1.2.3")
    applier, _ = await member(world, 2, "5.1.2.9")
    await world.apply_referral(applier, code, client_ip="5.1.2.9")
    desk = review(world)

    approved = await desk.approve(applier)

    assert approved.referral_signals == (SAME_NETWORK,)
    assert await desk.held() == []
    theirs = await world.get_profile(owner)
    assert theirs.referred_count == 1
    assert theirs.referred_phones == ((await world.get_profile(applier)).phone,)
    assert (await world.get_profile(applier)).used_referral_status == "applied"
    [row] = applied_rows(world)
    assert (row["user_id"], row["referrer_id"], row["signals"]) == (
        applier,
        owner,
        [SAME_NETWORK],
    )
    assert [e.decision for e in seen if isinstance(e, ReferralDecided)] == ["held", "approved"]
    with pytest.raises(UserNotFound):
        await desk.approve(applier)  # approved already: not held


async def test_voiding_removes_it_and_the_applier_may_apply_again(world: World) -> None:
    owner, code = await member(world, 1, "5.1.2.3")
    applier, _ = await member(world, 2, "5.1.2.9")
    _, other_code = await member(world, 3, "46.7.8.9")
    await world.apply_referral(applier, code, client_ip="5.1.2.9")

    await review(world).void(applier)

    mine = await world.get_profile(applier)
    assert (mine.used_invite_code, mine.used_referral_status) == (None, None)
    assert (await world.get_profile(owner)).referred_count == 0
    profile = await world.apply_referral(applier, other_code, client_ip="81.2.3.4")
    assert profile.used_referral_status == "applied"
    assert applied_rows(world)[-1]["invite_code"] == other_code
    with pytest.raises(UserNotFound):
        await review(world).void(applier)


async def test_logins_older_than_the_window_say_nothing(world: World) -> None:
    _, code = await member(world, 1, "5.1.2.3", DEVICE)
    world.clock.advance(31 * DAY)
    applier, _ = await member(world, 2, "5.1.2.9")

    profile = await world.apply_referral(applier, code, client_ip="5.1.2.9", device_id=DEVICE)

    assert profile.used_referral_status == "applied"


async def test_addresses_that_are_not_global_never_make_a_network(world: World) -> None:
    _, code = await member(world, 1, "10.0.0.1")
    statuses = []
    for i in range(4):
        applier, _ = await member(world, 10 + i, "10.0.0.2")
        statuses.append(
            (await world.apply_referral(applier, code, "10.0.0.2")).used_referral_status
        )

    assert statuses == ["applied"] * 4


async def test_fifty_farmed_accounts_are_held_and_fifty_organic_ones_are_not(
    world: World,
) -> None:
    _, farm_code = await member(world, 1, "77.88.1.10", DEVICE)
    farmed = []
    for i in range(50):
        applier, _ = await member(world, 100 + i, f"77.88.1.{20 + i}", DEVICE)
        farmed.append(await world.apply_referral(applier, farm_code, f"77.88.1.{20 + i}", DEVICE))
    _, shared_code = await member(world, 2, "5.1.2.3", "influencer-device-0001")
    organic = []
    for i in range(50):
        ip, device = f"{31 + i}.{i + 1}.0.7", f"organic-device-{i:08d}"
        applier, _ = await member(world, 300 + i, ip, device)
        organic.append(await world.apply_referral(applier, shared_code, ip, device))

    held = sum(p.used_referral_status == "pending_review" for p in farmed)
    assert held / len(farmed) >= 0.95
    assert all(p.used_referral_status == "applied" for p in organic)


async def test_a_farm_away_from_the_owner_is_still_held_by_its_burst(world: World) -> None:
    _, code = await member(world, 1, "5.1.2.3", "owner-device-000000001")
    farmed = []
    for i in range(50):
        applier, _ = await member(world, 100 + i, f"77.88.1.{20 + i}", DEVICE)
        farmed.append(await world.apply_referral(applier, code, f"77.88.1.{20 + i}", DEVICE))

    held = sum(p.used_referral_status == "pending_review" for p in farmed)
    assert held / len(farmed) >= 0.95


def test_the_strictest_action_of_the_signals_decides() -> None:
    policy = parse_policy("same_device=refuse,code_burst=allow")
    assert decide([], policy) is Action.ALLOW
    assert decide([CODE_BURST], policy) is Action.ALLOW
    assert decide([CODE_BURST, SAME_NETWORK], policy) is Action.HOLD
    assert decide([SAME_NETWORK, SAME_DEVICE], policy) is Action.REFUSE


@pytest.mark.parametrize("text", ["same_phone=hold", "same_device=block", "same_device"])
def test_a_policy_names_known_signals_and_actions(text: str) -> None:
    with pytest.raises(ValueError, match="not"):
        parse_policy(text)


@pytest.mark.parametrize(
    "raw",
    [None, "", "short", "x" * 65, "has space in it 0000", "ünïcode-device-00000", "a/b" * 8],
)
def test_a_malformed_device_id_is_ignored(raw: str | None) -> None:
    assert device_id(raw) is None
    assert device_key(b"k", device_id(raw)) == ""


def test_a_device_is_kept_as_a_keyed_hash() -> None:
    assert device_id(DEVICE) == DEVICE
    key = device_key(b"k", DEVICE)
    assert len(key) == 32 and DEVICE not in key
    assert key != device_key(b"other", DEVICE)


def test_the_settings_read_the_referral_policy_window_and_burst() -> None:
    settings = load_settings(
        {
            "REFERRALS_REFERRAL_POLICY": "same_device=refuse, code_burst=allow",
            "REFERRALS_REFERRAL_WINDOW": "86400",
            "REFERRALS_REFERRAL_BURST": "5/3600",
        }
    )
    policy = settings.policy
    assert dict(policy.referral_policy) == {
        SAME_DEVICE: Action.REFUSE,
        SAME_NETWORK: Action.HOLD,
        CODE_BURST: Action.ALLOW,
    }
    assert (policy.referral_window, policy.referral_burst) == (86_400.0, Limit(5, 3_600.0))


def test_a_bad_referral_policy_is_a_settings_error_naming_it() -> None:
    with pytest.raises(SettingsError, match="REFERRALS_REFERRAL_POLICY="):
        load_settings({"REFERRALS_REFERRAL_POLICY": "same_device=block"})
