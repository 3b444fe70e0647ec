"""Conversion-driven throttling (docs/rules.md, *Conversion-driven throttling*):
a range that verifies almost none of its codes stops getting them; organic
traffic, which verifies most, never notices; shadow only logs; off does nothing."""

from __future__ import annotations

import asyncio
import logging

import pytest

from referrals.adapters.memory import InMemoryConversionLog, InMemoryRateLimiter
from referrals.application import pumping
from referrals.application.errors import RateLimited
from referrals.application.events import SendThrottled
from referrals.application.policy import Policy
from referrals.application.ports import Limit
from referrals.application.send_gate import SteppedSendGate
from referrals.application.verify import VerifyCode
from referrals.domain.phone import Phone
from tests.unit.conftest import World

VOLUME = 10


def pumped(n: int) -> str:
    """Numbers of one premium-like range: one block of 100,000."""
    return f"+7999800{n:04d}"


def organic(n: int) -> str:
    """Russian mobiles of many ranges."""
    return f"+79{(16, 26, 85)[n % 3]}{n * 7919:07d}"


async def pump(world: World, count: int, ip: str = "203.0.113.7") -> tuple[int, list[str]]:
    sent, refused = 0, []
    for n in range(count):
        try:
            await world.login(pumped(n), ip=ip)
            sent += 1
        except RateLimited as error:
            refused.append(error.limit)
        world.clock.advance(1)
    return sent, refused


@pytest.fixture
def strict(world: World) -> World:
    """Throttling from 10 codes on, and the fixed limits out of its way."""
    wide = Limit(10_000, 3600)
    return world.with_policy(
        pumping_min_volume=VOLUME,
        ip_send=wide,
        prefix_send=wide,
        phone_send=wide,
        ip_verify=wide,
    )


async def test_a_range_that_verifies_nothing_stops_getting_codes(strict: World) -> None:
    sent, refused = await pump(strict, 50)

    assert sent == VOLUME
    assert set(refused) == {"pumping_network"}  # the most specific group decides first


async def test_rotating_addresses_do_not_help_a_range(strict: World) -> None:
    sent, refused = 0, []
    for n in range(50):
        try:
            await strict.login(pumped(n), ip=f"198.51.{n}.7")  # a /24 each
            sent += 1
        except RateLimited as error:
            refused.append(error.limit)
        strict.clock.advance(1)

    assert sent == VOLUME
    assert set(refused) == {"pumping_prefix"}


async def test_organic_traffic_that_verifies_is_never_throttled(strict: World) -> None:
    for n in range(100):
        phone = organic(n)
        token, code = await strict.login(phone, ip="192.0.2.1")  # one NAT, one country
        if n % 4:  # three in four verify
            await strict.verify(VerifyCode(token, code, "192.0.2.1"))
        strict.clock.advance(1)


async def test_a_throttled_range_recovers_as_its_window_moves_on(strict: World) -> None:
    await pump(strict, VOLUME + 5)
    strict.clock.advance(strict.policy.pumping_window + pumping.CONVERSION_BUCKET)

    sent, _ = await pump(strict, 3)
    assert sent == 3


async def test_shadow_mode_only_logs_what_it_would_refuse(
    strict: World, caplog: pytest.LogCaptureFixture
) -> None:
    shadow = strict.with_policy(pumping_mode="shadow")
    with caplog.at_level(logging.WARNING, "referrals.pumping"):
        sent, refused = await pump(shadow, 20)

    assert (sent, refused) == (20, [])
    assert "would throttle: network net:203.0.113.0/24 sent 10 codes" in caplog.text


async def test_off_counts_nothing(strict: World) -> None:
    off = strict.with_policy(pumping_mode="off")
    assert await pump(off, 30) == (30, [])


def test_a_login_is_judged_per_network_prefix_and_country() -> None:
    kinds = pumping.groups(Phone("+79991234567"), "2001:db8:1:2::1", 56)

    assert kinds == [
        ("network", "net:2001:db8:1::/56"),
        ("prefix", "prefix:+79991234"),
        ("prefix", "prefix:+799912"),
        ("country", "cc:7"),
    ]


def test_a_group_may_send_five_codes_per_login_verified_past_the_volume() -> None:
    policy = Policy(pumping_min_volume=100, pumping_min_conversion=0.2)
    assert pumping.allowed(0, policy) == 100
    assert pumping.allowed(30, policy) == 150


async def test_an_operator_can_pin_a_range_and_lift_a_network() -> None:
    log = InMemoryConversionLog(pumping.CONVERSION_BUCKET)
    policy = Policy(pumping_min_volume=2)
    throttle = pumping.Throttle(log, policy)
    gate = SteppedSendGate(InMemoryRateLimiter(), log)
    groups = pumping.PumpingGroups(log, policy)
    phone, address = Phone("+79998012345"), "203.0.113.7"

    async def send(login: str) -> None:
        check = throttle.check(phone, address)
        assert check is not None
        await throttle.decided(check, await gate.acquire([], 0.0, login, check), 0.0)

    await groups.mark("prefix:+799980", "pinned")
    with pytest.raises(RateLimited) as refused:
        await send("a")
    assert refused.value.limit == "pumping_prefix"

    await groups.mark("prefix:+799980", "")
    for login in "bc":
        await send(login)
    await groups.mark("net:203.0.113.0/24", "lifted")
    with pytest.raises(RateLimited) as refused:  # the network is lifted, not the prefix
        await send("d")
    assert refused.value.limit == "pumping_prefix"

    listed = {state.group: state for state in await groups.list(0.0)}
    assert listed["net:203.0.113.0/24"].mark == "lifted"
    assert not listed["net:203.0.113.0/24"].throttled
    assert listed["prefix:+799980"].throttled
    assert "cc:7" not in listed  # 2 of a country's 20


def test_a_mark_names_a_group() -> None:
    groups = pumping.PumpingGroups(InMemoryConversionLog(60.0), Policy())
    with pytest.raises(ValueError, match="not a group"):
        asyncio.run(groups.mark("+79998012345", "pinned"))


async def test_every_decision_is_an_event_with_its_figures(strict: World) -> None:
    decisions: list[SendThrottled] = []

    async def record(event: SendThrottled) -> None:
        decisions.append(event)

    strict.events.add(SendThrottled, record)
    await pump(strict, VOLUME + 2)

    first = decisions[0]
    assert (first.kind, first.group, first.sent, first.verified) == (
        "network",
        "net:203.0.113.0/24",
        VOLUME,
        0,
    )
    assert (first.allowed, first.mode, len(decisions)) == (VOLUME, "enforce", 2)
