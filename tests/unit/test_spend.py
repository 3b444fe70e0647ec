"""The spend cap of docs/sending-codes.md, *Spend*: prices per segment by country
and channel, a cap in the limits' format, 503 ``sending_paused`` past it, test
phones free, and the day's spend in the stats."""

from __future__ import annotations

import dataclasses

import pytest

from referrals.adapters.memory import InMemoryActivityLog, InMemorySpendLedger
from referrals.application.errors import SendingPaused
from referrals.application.events import LimitReached
from referrals.application.operations import GetStats
from referrals.application.ports import Limit
from referrals.application.request_code import CodeRequest
from referrals.application.sms_text import SmsText
from referrals.application.spend import SpendCap, utc_day
from referrals.domain.segments import sms_size
from referrals.domain.spend import Prices, parse_prices
from referrals.settings import SettingsError, load_settings
from tests.unit.conftest import World


def test_the_most_specific_price_wins() -> None:
    prices = parse_prices("telegram:ru=1,telegram:*=2,ru=4.5,kz=3,*=0.08")

    assert prices.per_segment("telegram", "ru") == 1
    assert prices.per_segment("telegram", "kz") == 2
    assert prices.per_segment("smsru", "ru") == 4.5
    assert prices.per_segment("smsru", "kz") == 3
    assert prices.per_segment("twilio", "us") == 0.08
    assert Prices().per_segment("twilio", "us") == 0
    assert Prices().free


@pytest.mark.parametrize(
    "text", ["ru", "ru=x", "russia=1", ":ru=1", "ru=1,ru=2", "ru=-1", "fax:ru=1"]
)
def test_malformed_prices_are_refused_at_start(text: str) -> None:
    with pytest.raises(SettingsError, match="REFERRALS_SMS_PRICES"):
        load_settings({"REFERRALS_SMS_PRICES": text})


def test_the_cap_takes_the_limits_format() -> None:
    settings = load_settings({"REFERRALS_SPEND_CAP": "1000/86400,100/3600"})
    assert settings.spend_cap == (Limit(100, 3600.0), Limit(1000, 86400.0))


def capped(world: World, prices: str, *caps: Limit, ledger: InMemorySpendLedger) -> World:
    spend = SpendCap(ledger, parse_prices(prices), tuple(caps))
    # gate=None: the login's gate steps over this ledger (the container's holds its own)
    world.request_code = dataclasses.replace(world.request_code, spend=spend, gate=None)
    return world


async def test_past_the_cap_logins_are_paused_and_nothing_is_sent(world: World) -> None:
    ledger = InMemorySpendLedger()
    world = capped(world, "ru=4.5", Limit(10, 86400), ledger=ledger)
    reached: list[LimitReached] = []

    async def alert(event: LimitReached) -> None:
        reached.append(event)

    world.events.add(LimitReached, alert)
    for n in range(3):  # 0, 4.5, 9 spent: room
        await world.login(f"+7999123450{n}", ip=f"10.0.1.{n}")

    with pytest.raises(SendingPaused) as paused:
        await world.login("+79991234509", ip="10.0.1.9")

    assert paused.value.retry_after > 0
    assert len(world.queued) == 3
    assert [event.limit for event in reached] == ["spend_cap"]
    day = await ledger.day(utc_day(world.clock.now()))
    assert day == {("console", "ru"): 13.5}


async def test_a_paused_login_takes_no_quota(world: World) -> None:
    world = capped(world, "ru=4.5", Limit(4, 86400), ledger=InMemorySpendLedger())
    await world.login("+79991234500", ip="10.0.1.1")
    for _ in range(3):
        with pytest.raises(SendingPaused):
            await world.login("+79991234501", ip="10.0.1.1")  # no cooldown taken


async def test_each_sms_is_costed_at_its_segments(world: World) -> None:
    ledger = InMemorySpendLedger()
    world = capped(world, "*=1", ledger=ledger)
    long = SmsText(templates={"en": "x" * 150 + " {code}"})  # 155 characters: one segment
    longer = SmsText(templates={"en": "x" * 160 + " {code}"})  # 165: two
    for n, text in enumerate((long, longer)):
        world.request_code = dataclasses.replace(world.request_code, sms_text=text)
        await world.login(f"+1202555012{n}", ip=f"10.0.1.{n}")

    assert await ledger.day(utc_day(world.clock.now())) == {("console", "us"): 3.0}


async def test_test_phones_are_free(world: World) -> None:
    ledger = InMemorySpendLedger()
    world = world.with_policy(test_phones={"+79990000001": "1234"})
    world = capped(world, "ru=4.5", Limit(1, 86400), ledger=ledger)
    for _ in range(3):
        await world.request_code(CodeRequest(phone="+79990000001", client_ip="10.0.0.1"))

    assert await ledger.day(utc_day(world.clock.now())) == {}


async def test_the_stats_show_the_days_spend_by_channel_and_country(world: World) -> None:
    ledger = InMemorySpendLedger()
    world = capped(world, "ru=4.5,kz=3", ledger=ledger)
    await world.login("+79991234500", ip="10.0.1.1")
    await world.login("+77011234567", ip="10.0.1.2")
    stats = GetStats(world.users.unit_of_work, InMemoryActivityLog(), world.clock, spend=ledger)

    figures = await stats()

    assert [(s.channel, s.country, s.amount) for s in figures.spend_today] == [
        ("console", "ru", 4.5),
        ("console", "kz", 3.0),
    ]


def test_a_codes_digits_never_change_what_its_sms_costs() -> None:
    text = SmsText()
    for language in text.templates:
        for code in ("0000", "9876", "123456", "4444444"):
            zeros = text.render("0" * len(code), language)
            assert sms_size(text.render(code, language)) == sms_size(zeros)
