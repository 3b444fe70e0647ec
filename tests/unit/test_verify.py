import asyncio
from typing import Any

import pytest

from referrals.adapters.memory.users import InMemoryUserRepository
from referrals.application.errors import RateLimited, ServiceUnavailable, TooManyAttempts
from referrals.application.ports import Limit
from referrals.application.verify import VerifyCode
from referrals.domain.errors import ChallengeExpired, CodeInvalid, InvalidConfirmationCode
from tests.unit.conftest import World


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10000:04d}"


async def test_the_right_code_creates_the_user_and_opens_a_session(world: World) -> None:
    verified = await world.sign_in("+79991234567")
    assert verified.is_new_user
    assert verified.profile.phone == "+79991234567"
    assert len(verified.profile.invite_code) == 6
    assert await world.authenticate(verified.session.token) == verified.profile.id
    assert verified.session.expires_in == 30 * 86400


async def test_no_user_exists_before_a_successful_verification(world: World) -> None:
    token, code = await world.login("+79991234567")
    with pytest.raises(CodeInvalid):
        await world.verify(VerifyCode(token, wrong(code), "10.0.0.1"))
    assert world.users.by_id == {}


async def test_a_second_login_finds_the_same_user(world: World) -> None:
    first = await world.sign_in("+79991234567")
    world.clock.advance(60)
    second = await world.sign_in("89991234567")
    assert not second.is_new_user
    assert second.profile.id == first.profile.id
    assert second.session.token != first.session.token


async def test_a_code_is_accepted_once(world: World) -> None:
    token, code = await world.login("+79991234567")
    await world.verify(VerifyCode(token, code, "10.0.0.1"))
    with pytest.raises(ChallengeExpired):
        await world.verify(VerifyCode(token, code, "10.0.0.1"))


async def test_a_code_expires_after_its_time_to_live(world: World) -> None:
    token, code = await world.login("+79991234567")
    world.clock.advance(300)
    with pytest.raises(ChallengeExpired):
        await world.verify(VerifyCode(token, code, "10.0.0.1"))


async def test_a_code_works_until_just_before_it_expires(world: World) -> None:
    token, code = await world.login("+79991234567")
    world.clock.advance(299.9)
    await world.verify(VerifyCode(token, code, "10.0.0.1"))


async def test_wrong_codes_count_down_and_the_fifth_burns_the_challenge(world: World) -> None:
    token, code = await world.login("+79991234567")
    left = []
    for n in range(5):
        with pytest.raises(CodeInvalid) as refused:
            await world.verify(VerifyCode(token, wrong(code), f"10.0.1.{n}"))
        left.append(refused.value.attempts_left)
    assert left == [4, 3, 2, 1, 0]
    with pytest.raises(ChallengeExpired):
        await world.verify(VerifyCode(token, code, "10.0.0.1"))


async def test_a_new_login_supersedes_the_previous_code(world: World) -> None:
    old_token, old_code = await world.login("+79991234567")
    world.clock.advance(60)
    token, code = await world.login("+79991234567")
    with pytest.raises(ChallengeExpired):
        await world.verify(VerifyCode(old_token, old_code, "10.0.0.1"))
    await world.verify(VerifyCode(token, code, "10.0.0.1"))


async def test_a_malformed_code_is_invalid_input_and_costs_no_attempt(world: World) -> None:
    token, code = await world.login("+79991234567")
    with pytest.raises(InvalidConfirmationCode):
        await world.verify(VerifyCode(token, "12a4", "10.0.0.1"))
    await world.verify(VerifyCode(token, code, "10.0.0.1"))


async def test_an_unknown_token_is_an_expired_challenge(world: World) -> None:
    with pytest.raises(ChallengeExpired):
        await world.verify(VerifyCode("nope", "1234", "10.0.0.1"))


async def test_ten_wrong_codes_a_day_from_three_addresses_lock_the_phone(world: World) -> None:
    # One long-lived login, so only the limits answer (not the burn or the expiry).
    world = world.with_policy(code_max_attempts=20, code_ttl=86400)
    token, code = await world.login("+79991234567")
    for n in range(10):
        with pytest.raises(CodeInvalid):
            await world.verify(VerifyCode(token, wrong(code), f"10.0.{n % 3}.1"))
        world.clock.advance(600)  # past each address's short waits
    with pytest.raises(TooManyAttempts) as refused:
        await world.verify(VerifyCode(token, code, "10.0.0.99"))
    assert refused.value.limit == "phone_failure"
    world.clock.advance(60)
    with pytest.raises(TooManyAttempts):
        await world.login("+79991234567", ip="10.0.0.99")
    world.clock.advance(86400)
    await world.sign_in("+79991234567", ip="10.0.0.99")


async def test_a_locked_phone_refuses_even_the_right_code(world: World) -> None:
    world = world.with_policy(phone_failure=Limit(2, 86400))
    token, code = await world.login("+79991234567")
    for n in range(2):
        with pytest.raises(CodeInvalid):
            await world.verify(VerifyCode(token, wrong(code), f"10.0.1.{n}"))
    with pytest.raises(RateLimited) as refused:
        await world.verify(VerifyCode(token, code, "10.0.0.1"))
    assert isinstance(refused.value, TooManyAttempts)


async def test_an_address_gets_sixty_verification_attempts_per_five_minutes(
    world: World,
) -> None:
    token, code = await world.login("+79991234567")
    for _ in range(60):
        with pytest.raises(ChallengeExpired):
            await world.verify(VerifyCode("guess", "0000", "10.6.6.6"))
    with pytest.raises(RateLimited) as refused:
        await world.verify(VerifyCode(token, code, "10.6.6.6"))
    assert isinstance(refused.value, TooManyAttempts)
    await world.verify(VerifyCode(token, code, "10.0.0.1"))


async def test_fifty_concurrent_verifications_open_exactly_one_session(world: World) -> None:
    token, code = await world.login("+79991234567")
    results = await asyncio.gather(
        *(world.verify(VerifyCode(token, code, f"10.1.0.{i}")) for i in range(50)),
        return_exceptions=True,
    )
    sessions = [r for r in results if not isinstance(r, BaseException)]
    assert len(sessions) == 1
    # The others lost the race; those that arrived while ten attempts were
    # in flight were refused before looking (the per-phone bound holds them).
    assert all(
        isinstance(r, ChallengeExpired | TooManyAttempts) for r in results if r not in sessions
    )
    assert len(world.users.by_id) == 1


async def test_concurrent_first_logins_of_one_phone_create_one_user(world: World) -> None:
    world = world.with_policy(resend_cooldown=0.001)
    logins = []
    for n in range(5):
        logins.append(await world.login("+79991234567", ip=f"10.0.1.{n}"))
        world.clock.advance(1)
    # Only the latest challenge is live; the others fail, none creates a second user.
    results = await asyncio.gather(
        *(world.verify(VerifyCode(t, c, "10.0.0.1")) for t, c in logins), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert len(world.users.by_id) == 1


async def test_a_failed_profile_read_keeps_a_returning_users_code_usable(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9 point 8: the code is consumed only after the profile was read,
    so a database failure at that moment loses nothing: 503, then the same
    code works."""
    first = await world.sign_in("+79991234567")
    world.clock.advance(60)
    token, code = await world.login("+79991234567")

    async def unavailable(*_: object) -> None:
        raise ServiceUnavailable("the database")

    monkeypatch.setattr(InMemoryUserRepository, "profile", unavailable)
    with pytest.raises(ServiceUnavailable):
        await world.verify(VerifyCode(token, code, "10.0.0.1"))
    monkeypatch.undo()

    verified = await world.verify(VerifyCode(token, code, "10.0.0.1"))

    assert verified.profile.id == first.profile.id
    assert verified.is_new_user is False
    assert await world.authenticate(verified.session.token) == first.profile.id


async def test_a_first_login_looks_its_phone_up_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []
    get_by_phone = InMemoryUserRepository.get_by_phone

    async def counted(self: InMemoryUserRepository, phone: Any) -> Any:
        lookups.append(str(phone))
        return await get_by_phone(self, phone)

    monkeypatch.setattr(InMemoryUserRepository, "get_by_phone", counted)
    verified = await world.sign_in("+79991234567")
    assert verified.is_new_user
    assert lookups == ["+79991234567"]  # no second read inside the inserting unit


async def test_a_user_created_by_a_concurrent_login_is_found_after_the_insert_refuses(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await world.sign_in("+79991234567")
    world.clock.advance(60)
    token, code = await world.login("+79991234567")
    get_by_phone = InMemoryUserRepository.get_by_phone
    calls = 0

    async def misses_once(self: InMemoryUserRepository, phone: Any) -> Any:
        nonlocal calls
        calls += 1  # the first read misses, as if the other login had not committed yet
        return None if calls == 1 else await get_by_phone(self, phone)

    monkeypatch.setattr(InMemoryUserRepository, "get_by_phone", misses_once)
    verified = await world.verify(VerifyCode(token, code, "10.0.0.1"))
    assert verified.profile.id == first.profile.id
    assert len(world.users.by_id) == 1
