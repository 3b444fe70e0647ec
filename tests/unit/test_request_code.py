import dataclasses

import pytest

from referrals.adapters.memory import InMemoryConversionLog, InMemorySpendLedger
from referrals.application import pumping
from referrals.application.errors import RateLimited, ServiceUnavailable, TooManyAttempts
from referrals.application.ports import CodeDelivery, Limit
from referrals.application.pumping import CONVERSION_BUCKET, Throttle
from referrals.application.request_code import CodeRequest
from referrals.application.spend import SpendCap, utc_day
from referrals.domain.codes import challenge_id
from referrals.domain.errors import InvalidPhone
from referrals.domain.phone import Phone
from referrals.domain.spend import parse_prices
from tests.unit.conftest import SECRET, World


async def test_a_login_request_queues_a_sealed_code_for_the_e164_phone(world: World) -> None:
    requested = await world.request_code(CodeRequest("8 (999) 123-45-67", "10.0.0.1"))
    [delivery] = world.queued
    assert requested.phone == delivery.phone == "+79991234567"
    assert delivery.challenge_id == challenge_id(SECRET, requested.token)
    assert requested.expires_in == 300 and requested.resend_after == 60
    assert requested.code is None  # not exposed by default
    code = world.last_code()
    assert len(code) == 4 and code.isdigit()
    stored = await world.challenges.get(delivery.challenge_id, world.clock.now())
    assert stored is not None and code not in stored.code_digest


async def test_codes_are_exposed_only_when_the_policy_says_so(world: World) -> None:
    requested = await world.with_policy(expose_codes=True).request_code(
        CodeRequest("+79991234567", "10.0.0.1")
    )
    assert requested.code == world.last_code()


async def test_an_invalid_phone_is_refused_before_anything_is_stored(world: World) -> None:
    with pytest.raises(InvalidPhone):
        await world.request_code(CodeRequest("12345", "10.0.0.1"))
    assert world.queued == []


async def test_a_second_code_within_the_cooldown_is_refused_with_the_wait(world: World) -> None:
    await world.login("+79991234567")
    world.clock.advance(20)
    with pytest.raises(RateLimited) as refused:
        await world.login("+79991234567")
    assert not isinstance(refused.value, TooManyAttempts)
    assert refused.value.limit == "cooldown"
    assert refused.value.retry_after == pytest.approx(40)
    world.clock.advance(40)
    await world.login("+79991234567")


async def test_a_phone_gets_at_most_ten_codes_a_day(world: World) -> None:
    for n in range(10):
        await world.login("+79991234567", ip=f"10.0.1.{n}")
        world.clock.advance(60)
    with pytest.raises(RateLimited) as refused:
        await world.login("+79991234567", ip="10.0.1.99")
    assert refused.value.limit == "phone_send"
    assert refused.value.retry_after == pytest.approx(86400 - 600)
    world.clock.advance(86400 - 600)
    await world.login("+79991234567", ip="10.0.1.99")


async def test_one_address_gets_at_most_five_codes_a_day_for_one_phone(world: World) -> None:
    for _ in range(5):
        await world.login("+79991234567", ip="10.6.6.6")
        world.clock.advance(60)
    with pytest.raises(RateLimited) as refused:
        await world.login("+79991234567", ip="10.6.6.6")
    assert refused.value.limit == "phone_ip_send"
    assert not isinstance(refused.value, TooManyAttempts)
    assert refused.value.retry_after == pytest.approx(86400 - 300)
    # The stranger used five of the phone's ten: its owner still gets codes.
    await world.login("+79991234567", ip="10.0.0.1")


async def test_an_address_gets_at_most_thirty_codes_an_hour(world: World) -> None:
    for i in range(30):
        await world.login(f"+7999123{i:04d}", ip="10.9.9.9")
    with pytest.raises(RateLimited):
        await world.login("+79995550000", ip="10.9.9.9")
    await world.login("+79995550000", ip="10.9.9.8")


async def test_refusals_take_nothing_from_the_other_quotas(world: World) -> None:
    world = world.with_policy(ip_send=Limit(2, 3600))
    await world.login("+79991234567", ip="10.0.0.5")
    with pytest.raises(RateLimited):  # cooldown
        await world.login("+79991234567", ip="10.0.0.5")
    await world.login("+79991234568", ip="10.0.0.5")  # the address still had room


async def test_a_registered_and_a_new_phone_get_the_same_answer(world: World) -> None:
    await world.sign_in("+79991234567")
    world.clock.advance(60)
    known = await world.request_code(CodeRequest("+79991234567", "10.0.0.2"))
    new = await world.request_code(CodeRequest("+79991234500", "10.0.0.2"))
    assert (known.expires_in, known.resend_after) == (new.expires_in, new.resend_after)


class DownSender:
    async def send(self, delivery: CodeDelivery) -> None:
        raise ServiceUnavailable("the task queue")


async def test_a_code_that_cannot_be_queued_gives_back_the_challenge_and_quota(
    world: World,
) -> None:
    down = dataclasses.replace(world, sender=DownSender())
    with pytest.raises(ServiceUnavailable):
        await down.request_code(CodeRequest("+79991234567", "10.0.0.1"))
    # No cooldown was left behind: the retry once the queue is back works at once.
    await world.login("+79991234567")


async def test_a_code_that_cannot_be_queued_gives_back_its_count_and_charge(
    world: World,
) -> None:
    log, ledger = InMemoryConversionLog(CONVERSION_BUCKET), InMemorySpendLedger()
    request_code = dataclasses.replace(
        world.request_code,
        throttle=Throttle(log, world.policy),
        spend=SpendCap(ledger, parse_prices("*=1"), (Limit(1, 86_400),)),
        gate=None,  # steps over the log and the ledger above
    )
    with pytest.raises(ServiceUnavailable):
        await dataclasses.replace(request_code, code_sender=DownSender())(
            CodeRequest("+79991234567", "10.0.0.1")
        )

    assert await ledger.day(utc_day(world.clock.now())) == {}
    groups = [name for _, name in pumping.groups(Phone("+79991234567"), "10.0.0.1", 56)]
    assert {sent for sent, _, _ in await log.counts(groups, 0.0)} == {0}
    await request_code(CodeRequest("+79991234567", "10.0.0.1"))  # the cap had room again


async def test_one_phones_logins_cannot_be_linked_by_their_tokens(world: World) -> None:
    first, _ = await world.login("+79991234567")
    world.clock.advance(61)
    second, _ = await world.login("+79991234567")

    assert first[:32] != second[:32]
    assert first[:8] != second[:8]
