"""The layered limits of docs/rules.md, "Limits and abuse": against SMS pumping
(per phone and address, per number block, per country, in all) and against
lockout as a weapon (wrong codes per phone and per phone and address, with
growing waits). Each refusal names the limit that answered."""

import pytest

from referrals.application import lockout, rate_limits
from referrals.application.errors import RateLimited, TooManyAttempts
from referrals.application.ports import Limit
from referrals.application.request_code import CodeRequest
from referrals.application.verify import VerifyCode
from referrals.domain.codes import phone_alias
from referrals.domain.errors import ChallengeExpired, CodeInvalid, InvalidPhone
from referrals.domain.phone import Phone
from tests.unit.conftest import SECRET, World

PHONE = "+79991234567"
OWNER, STRANGER = "10.0.0.1", "198.51.100.7"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10000:04d}"


async def refused(world: World, phone: str, ip: str) -> RateLimited:
    with pytest.raises(RateLimited) as caught:
        await world.login(phone, ip)
    return caught.value


# --- against SMS pumping ----------------------------------------------------------


async def test_a_block_of_a_thousand_numbers_gets_its_own_sending_limit(world: World) -> None:
    world = world.with_policy(prefix_send=Limit(3, 3600))
    for n in range(3):
        await world.login(f"+7999123450{n}", ip=f"10.0.1.{n}")
    error = await refused(world, "+79991234599", "10.0.1.9")
    assert (error.limit, type(error)) == ("prefix_send", RateLimited)
    assert error.retry_after == 3600
    await world.login("+79991235000", ip="10.0.1.9")  # the next block


async def test_a_country_gets_its_own_sending_limit(world: World) -> None:
    world = world.with_policy(country_send=Limit(2, 3600))
    await world.login("+79991234567", ip="10.0.1.1")
    await world.login("+79161234567", ip="10.0.1.2")
    error = await refused(world, "+79261234567", "10.0.1.3")
    assert error.limit == "country_send"
    # Kazakhstan shares the calling code +7; Ukraine (+380) does not.
    assert (await refused(world, "+77011234567", "10.0.1.3")).limit == "country_send"
    await world.login("+380501234567", ip="10.0.1.3")


async def test_the_global_ceiling_holds_every_phone_and_address(world: World) -> None:
    world = world.with_policy(global_send=Limit(2, 3600))
    await world.login("+79991234567", ip="10.0.1.1")
    await world.login("+380501234567", ip="10.0.1.2")
    error = await refused(world, "+12025550123", "10.0.1.3")
    assert error.limit == "global_send"
    world.clock.advance(3600)
    await world.login("+12025550123", ip="10.0.1.3")


async def test_a_refused_code_takes_nothing_from_the_other_limits(world: World) -> None:
    world = world.with_policy(global_send=Limit(1, 3600), ip_send=Limit(1, 3600))
    await world.login("+79991234567", ip="10.0.1.1")
    await refused(world, "+79991234568", "10.0.1.2")  # the ceiling
    world.clock.advance(3600)
    await world.login("+79991234568", ip="10.0.1.2")  # the address kept its room


# --- lockout as a weapon --------------------------------------------------------------


async def test_a_strangers_wrong_codes_wait_longer_and_longer(world: World) -> None:
    world = world.with_policy(code_ttl=3 * 86400, code_max_attempts=20)
    token, code = await world.login(PHONE, STRANGER)
    guesses, refusals = [0], []
    while len(refusals) < 3:
        try:
            await world.verify(VerifyCode(token, wrong(code), STRANGER))
        except CodeInvalid:
            guesses[-1] += 1
        except TooManyAttempts as error:
            refusals.append(error)
            world.clock.advance(error.retry_after)
            guesses.append(0)
    waits = [round(error.retry_after) for error in refusals]
    assert {error.limit for error in refusals} == {"phone_ip_failure"}
    # Six at once, two more after 5 minutes, one more after an hour: nine a
    # day, one short of the phone's ten, so the stranger alone locks nothing.
    assert guesses[:3] == [6, 2, 1]
    assert waits == [300, 3600 - 300, 86400 - 3600]
    await world.sign_in(PHONE, OWNER)


async def test_two_logins_and_ten_wrong_codes_by_a_stranger_do_not_lock_the_owner_out(
    world: World,
) -> None:
    for _ in range(2):
        token, code = await world.login(PHONE, STRANGER)
        for _ in range(5):
            with pytest.raises((CodeInvalid, TooManyAttempts)):
                await world.verify(VerifyCode(token, wrong(code), STRANGER))
        world.clock.advance(60)

    owner = await world.sign_in(PHONE, OWNER)

    assert owner.profile.phone == PHONE


async def test_ten_logins_by_a_stranger_leave_the_owner_codes_of_the_day(world: World) -> None:
    refusals = []
    for _ in range(10):
        try:
            await world.login(PHONE, STRANGER)
        except RateLimited as error:
            refusals.append(error.limit)
        world.clock.advance(60)
    assert refusals == ["phone_ip_send"] * 5

    owner = await world.sign_in(PHONE, OWNER)

    assert owner.profile.phone == PHONE
    assert sum(delivery.phone == PHONE for delivery in world.queued) == 5 + 1


async def test_a_phone_locked_for_one_address_still_sends_to_another(world: World) -> None:
    token, code = await world.login(PHONE, STRANGER)
    for _ in range(2):
        with pytest.raises(CodeInvalid):
            await world.verify(VerifyCode(token, wrong(code), STRANGER))
    world.clock.advance(60)
    await world.login(PHONE, OWNER)  # the owner is not slowed down
    error = await refused(world, "+79991234567", STRANGER)
    assert error.limit == "cooldown"


async def test_wrong_codes_from_one_address_lock_nothing_for_the_phone_elsewhere(
    world: World,
) -> None:
    world = world.with_policy(phone_ip_failure=(Limit(1, 86400),))
    token, code = await world.login(PHONE, STRANGER)
    with pytest.raises(CodeInvalid):
        await world.verify(VerifyCode(token, wrong(code), STRANGER))
    world.clock.advance(60)
    error = await refused(world, PHONE, STRANGER)
    assert (error.limit, type(error)) == ("phone_ip_failure", TooManyAttempts)

    await world.sign_in(PHONE, OWNER)


async def test_a_right_code_after_wrong_ones_counts_only_the_wrong_ones(world: World) -> None:
    world = world.with_policy(phone_failure=Limit(3, 86400))
    for n in range(3):  # three logins, each with one wrong code then the right one
        token, code = await world.login(PHONE, f"10.0.1.{n}")
        if n < 2:
            with pytest.raises(CodeInvalid):
                await world.verify(VerifyCode(token, wrong(code), f"10.0.1.{n}"))
        await world.verify(VerifyCode(token, code, f"10.0.1.{n}"))
        world.clock.advance(60)


# --- addresses ------------------------------------------------------------------------


async def test_an_ipv6_client_is_its_64_network(world: World) -> None:
    world = world.with_policy(ip_send=Limit(1, 3600))
    await world.login("+79991234501", ip="2001:db8:1:2::1")
    error = await refused(world, "+79991234502", "2001:db8:1:2:ffff::9")
    assert error.limit == "ip_send"
    await world.login("+79991234503", ip="2001:db8:1:3::1")


async def test_the_ipv6_prefix_is_a_setting(world: World) -> None:
    world = world.with_policy(ip_send=Limit(1, 3600), ipv6_prefix=48)
    await world.login("+79991234501", ip="2001:db8:1:2::1")
    await refused(world, "+79991234502", "2001:db8:1:3::1")


async def test_one_ipv6_56_shares_a_sending_limit_across_its_64s(world: World) -> None:
    world = world.with_policy(network_send=Limit(2, 3600))
    await world.login("+79991234501", ip="2001:db8:1:100::1")
    await world.login("+79991234502", ip="2001:db8:1:1ff::1")  # another /64 of the /56
    error = await refused(world, "+79991234503", "2001:db8:1:1a0::1")
    assert (error.limit, type(error)) == ("network_send", RateLimited)
    await world.login("+79991234504", ip="2001:db8:1:200::1")  # the next /56
    await world.login("+79991234505", ip="10.0.0.9")  # IPv4 is counted per address only


async def test_the_ipv6_network_prefix_is_a_setting(world: World) -> None:
    world = world.with_policy(network_send=Limit(1, 3600), ipv6_network_prefix=48)
    await world.login("+79991234501", ip="2001:db8:1:100::1")
    assert (await refused(world, "+79991234502", "2001:db8:1:ff00::1")).limit == "network_send"


async def test_an_ipv4_mapped_address_is_the_ipv4_address(world: World) -> None:
    world = world.with_policy(ip_send=Limit(1, 3600))
    await world.login("+79991234501", ip="::ffff:192.0.2.1")
    await refused(world, "+79991234502", "192.0.2.1")


@pytest.mark.parametrize(
    ("address", "group"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("2001:DB8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::1", "::/64"),
        ("testclient", "testclient"),
    ],
)
def test_client_groups(address: str, group: str) -> None:
    assert rate_limits.client_group(address, 64) == group


# --- operators ------------------------------------------------------------------------


async def test_resetting_a_phones_quota_keys_lifts_its_lock(world: World) -> None:
    world = world.with_policy(phone_failure=Limit(1, 86400))
    token, code = await world.login(PHONE, OWNER)
    with pytest.raises(CodeInvalid):
        await world.verify(VerifyCode(token, wrong(code), OWNER))
    world.clock.advance(60)
    await refused(world, PHONE, OWNER)

    await world.limiter.reset(rate_limits.phone_quota_keys(SECRET, Phone(PHONE)))

    await world.sign_in(PHONE, OWNER)


def test_the_quota_keys_of_a_phone_name_its_alias_not_its_number() -> None:
    keys = rate_limits.phone_quota_keys(SECRET, Phone(PHONE))
    alias = phone_alias(SECRET, PHONE)
    assert keys == [f"send:{alias}", f"fail:{{{alias}}}", lockout.usual_failures_key(alias)]
    assert not any("9991234567" in key for key in keys)


async def test_every_quota_of_a_login_is_named_by_the_keys_it_uses(world: World) -> None:
    quotas = rate_limits.send_quotas(world.policy, Phone(PHONE), phone_alias(SECRET, PHONE), OWNER)
    names = {rule.name for quota in quotas for rule in quota.rules}
    assert names == {
        "phone_failure",
        "phone_ip_failure",
        "cooldown",
        "phone_send",
        "phone_ip_send",
        "ip_send",
        "prefix_send",
        "country_send",
        "global_send",
    }
    owners = lockout.usual_failures(world.policy, phone_alias(SECRET, PHONE), OWNER)
    keys = {q.key for q in quotas} | {owners.key}
    assert set(rate_limits.phone_quota_keys(SECRET, Phone(PHONE))) <= keys


async def test_addresses_of_one_ipv6_network_are_one_client(world: World) -> None:
    for n in range(5):
        await world.request_code(CodeRequest(PHONE, f"2001:db8::{n + 1}"))
        world.clock.advance(60)
    with pytest.raises(RateLimited) as caught:
        await world.request_code(CodeRequest(PHONE, "2001:db8::ffff"))
    assert caught.value.limit == "phone_ip_send"
    await world.request_code(CodeRequest(PHONE, "2001:db8:0:1::1"))


@pytest.mark.parametrize("phone", ["+881612345678", "+881712345678", "+870301234567"])
async def test_satellite_numbers_get_no_code(world: World, phone: str) -> None:
    with pytest.raises(InvalidPhone, match="global"):
        await world.login(phone, ip="2001:db8:1:100::1")
    await world.with_policy(global_calling_codes=frozenset({870, 881})).login(phone, ip=OWNER)


# --- the lock by wrong codes and the owner's usual networks ---------------------------


async def spend_wrong_codes(world: World, ip: str, wanted: int, patience: float = 3600) -> int:
    """Wrong codes for PHONE from ``ip`` until ``wanted`` are counted, the phone
    locks, or a limit asks to wait longer than ``patience`` seconds."""
    spent, token, code = 0, None, ""
    while spent < wanted:
        try:
            if token is None:
                token, code = await world.login(PHONE, ip)
            await world.verify(VerifyCode(token, wrong(code), ip))
        except CodeInvalid as error:
            spent += 1
            if error.attempts_left == 0:
                token = None
        except RateLimited as error:
            if error.limit == "phone_failure" or error.retry_after > patience:
                break
            world.clock.advance(error.retry_after)
            token = None if error.limit in {"cooldown", "phone_ip_send"} else token
        except ChallengeExpired:
            token = None
    return spent


async def test_a_stranger_with_two_addresses_cannot_lock_the_owner_out(world: World) -> None:
    await world.sign_in(PHONE, OWNER)  # 10.0.0.0/24 is the owner's usual network from now
    world.clock.advance(3600)

    spent = await spend_wrong_codes(world, STRANGER, 10)
    spent += await spend_wrong_codes(world, "203.0.113.9", 10 - spent)
    assert spent == 10
    locked = await refused(world, PHONE, "192.0.2.50")  # the lock holds for everyone else
    assert (locked.limit, type(locked)) == ("phone_failure", TooManyAttempts)
    world.clock.advance(60)  # the stranger's last code's cooldown

    owner = await world.sign_in(PHONE, "10.0.0.77")  # another address of the owner's /24

    assert owner.profile.phone == PHONE


async def test_the_guessing_bound_holds_outside_and_inside_the_owners_network(
    world: World,
) -> None:
    """The bound of docs/rules.md: ``phone_failure`` wrong codes a day from
    everywhere but the owner's usual networks, and as many again inside each."""
    await world.sign_in(PHONE, OWNER)
    world.clock.advance(3600)
    elsewhere = sum([await spend_wrong_codes(world, f"198.51.{n}.7", 10, 60) for n in range(30)])
    inside = sum([await spend_wrong_codes(world, f"10.0.0.{n}", 10, 60) for n in range(100, 130)])

    assert (elsewhere, inside) == (10, 10)
    with pytest.raises(TooManyAttempts):
        await world.sign_in(PHONE, "10.0.0.200")  # the owner's network is spent too, today
