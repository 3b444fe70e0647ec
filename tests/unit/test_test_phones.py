"""Test phones: fixed codes for app-store reviewers and QA, with no SMS and no sending quota."""

import logging

import pytest

from referrals.application.errors import RateLimited, TooManyAttempts
from referrals.application.policy import Policy
from referrals.application.request_code import CodeRequest
from referrals.application.verify import VerifyCode
from referrals.domain.errors import ChallengeExpired, CodeInvalid
from tests.unit.conftest import World

REVIEWER = "+79990000001"


@pytest.fixture
def reviewer_world(world: World) -> World:
    return world.with_policy(test_phones={"8 999 000-00-01": "1234"})


async def login(world: World, ip: str = "10.0.0.1", phone: str = REVIEWER) -> str:
    requested = await world.request_code(CodeRequest(phone=phone, client_ip=ip))
    return requested.token


async def test_a_test_phone_signs_in_with_its_fixed_code_and_no_sms(reviewer_world: World) -> None:
    requested = await reviewer_world.request_code(CodeRequest("+7 999 000 00 01", "10.0.0.1"))
    assert requested.phone == REVIEWER
    assert requested.code is None  # the fixed code is not given away either
    verified = await reviewer_world.verify(VerifyCode(requested.token, "1234", "10.0.0.1"))
    assert verified.profile.phone == REVIEWER
    assert reviewer_world.queued == []


async def test_other_phones_still_get_a_drawn_code_by_sms(reviewer_world: World) -> None:
    await reviewer_world.sign_in("+79991234567")
    assert [d.phone for d in reviewer_world.queued] == ["+79991234567"]


async def test_a_test_phone_takes_no_sending_quota(reviewer_world: World) -> None:
    world = reviewer_world
    for _ in range(40):  # past the cooldown, the phone's and the address's limits at once
        await login(world, ip="10.9.9.9")
    for i in range(30):  # the address still has all its 30 codes of the hour
        await world.login(f"+7999123{i:04d}", ip="10.9.9.9")
    with pytest.raises(RateLimited) as refused:
        await world.login("+79995550000", ip="10.9.9.9")
    assert refused.value.limit == "ip_send"
    token = await login(world, ip="10.9.9.9")  # a full address does not stop a test phone
    await world.verify(VerifyCode(token, "1234", "10.9.9.9"))


async def test_wrong_codes_still_burn_a_test_phones_login(reviewer_world: World) -> None:
    token = await login(reviewer_world)
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(CodeInvalid) as wrong:
            await reviewer_world.verify(VerifyCode(token, "9999", "10.0.0.1"))
        assert wrong.value.attempts_left == left
    with pytest.raises(ChallengeExpired):
        await reviewer_world.verify(VerifyCode(token, "1234", "10.0.0.1"))


async def test_wrong_codes_still_lock_a_test_phone(reviewer_world: World) -> None:
    world = reviewer_world
    for n in range(10):  # the day's ten wrong codes, from five addresses
        ip = f"10.0.0.{n // 2}"
        token = await login(world, ip=ip)
        with pytest.raises(CodeInvalid):
            await world.verify(VerifyCode(token, "9999", ip))
    with pytest.raises(TooManyAttempts) as refused:  # locked: not even a login
        await login(world, ip="10.0.0.99")
    assert refused.value.limit == "phone_failure"


async def test_each_use_is_logged_as_info(
    reviewer_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="referrals"):
        await login(reviewer_world)
        await login(reviewer_world)
    uses = [r for r in caplog.records if "test phone" in r.getMessage()]
    assert [r.levelno for r in uses] == [logging.INFO, logging.INFO]
    assert "+7999***0001" in uses[0].getMessage()
    assert REVIEWER not in caplog.text


async def test_each_use_is_a_warning_when_the_policy_says_so(
    reviewer_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world = reviewer_world.with_policy(warn_on_test_phones=True)
    with caplog.at_level(logging.INFO, logger="referrals"):
        await login(world)
    [use] = [r for r in caplog.records if "test phone" in r.getMessage()]
    assert use.levelno == logging.WARNING


def test_the_policy_normalises_test_phones() -> None:
    policy = Policy(test_phones={"8 (999) 000-00-01": "1234", "+7 999 000 00 02": "0000"})
    assert dict(policy.test_phones) == {"+79990000001": "1234", "+79990000002": "0000"}
    assert hash(policy) == hash(Policy(test_phones={"+79990000001": "1234"}))  # still hashable


@pytest.mark.parametrize(
    ("test_phones", "problem"),
    [
        ({"+79990000001": "123"}, "must be 4 digits"),
        ({"+79990000001": "12a4"}, "must be 4 digits"),
        ({"12345": "1234"}, "'12345'"),
        ({"+79990000001": "1234", "89990000001": "1234"}, "listed twice"),
        ({f"+7999000{n:04d}": "1234" for n in range(11)}, "at most 10"),
    ],
)
def test_the_policy_refuses_bad_test_phones(test_phones: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match="test_phones") as refused:
        Policy(test_phones=test_phones)
    assert problem in str(refused.value)


def test_a_fixed_code_has_the_configured_length() -> None:
    assert Policy(code_length=6, test_phones={REVIEWER: "123456"}).test_code(REVIEWER) == "123456"
    with pytest.raises(ValueError, match="6 digits"):
        Policy(code_length=6, test_phones={REVIEWER: "1234"})
