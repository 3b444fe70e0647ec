"""Receipts update their login's delivery record, once, and only for a channel that carried it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from referrals.application.deliver_code import Delivery
from referrals.application.errors import ReceiptRefused
from referrals.application.events import CodeDelivered, CodeUndelivered, Event
from referrals.application.receipts import (
    Callback,
    Receipt,
    Receipts,
    ReceiptStatus,
    RecordReceipts,
)
from referrals.domain.delivery import Status, Step
from tests.unit.test_routing import Chain

CALLBACK = Callback("https://x/api/receipts/telegram/", {}, b"")


@dataclass
class Said:
    """A reader that says what the test tells it (the signature checks have tests of their own)."""

    receipts: list[Receipt] = field(default_factory=list)

    def read(self, callback: Callback, now: float) -> Receipts:
        return Receipts(tuple(self.receipts))


@dataclass
class Kept:
    events: list[Event] = field(default_factory=list)

    async def publish(self, event: Event) -> None:
        self.events.append(event)


class Receiving:
    def __init__(self) -> None:
        self.chain = Chain()
        self.reader = Said()
        self.events = Kept()
        self.record = RecordReceipts(
            readers={"telegram": self.reader, "smsru": self.reader},
            delivery_log=self.chain.log,
            clock=self.chain.clock,
            events=self.events,
        )

    async def say(self, channel: str, *receipts: Receipt) -> str:
        self.reader.receipts = list(receipts)
        return await self.record(channel, CALLBACK)


async def test_a_delivered_receipt_marks_the_login_delivered_and_stops_the_failover() -> None:
    world = Receiving()
    delivery = await world.chain.login()
    await world.chain.deliver(delivery)
    world.chain.clock.advance(3)

    await world.say("telegram", Receipt("r-1", ReceiptStatus.DELIVERED, delivery.challenge_id))

    record = await world.chain.log.get(delivery.challenge_id)
    assert record is not None
    assert record.status is Status.DELIVERED
    assert record.channel == "telegram"
    [follow_up] = world.chain.follow_ups.queued
    assert await world.chain.deliver(follow_up) is Delivery.DELIVERED
    assert list(world.chain.sent()) == ["telegram"]
    [event] = world.events.events
    assert isinstance(event, CodeDelivered)
    assert (event.channel, event.country, event.seconds) == ("telegram", "RU", 3.0)


async def test_a_receipt_finds_its_login_by_the_providers_message_id() -> None:
    world = Receiving()
    delivery = await world.chain.login()
    await world.chain.deliver(delivery)
    await world.chain.log.link("telegram", "r-9", delivery.challenge_id)

    await world.say("telegram", Receipt("r-9", ReceiptStatus.SENT))
    await world.say("telegram", Receipt("r-9", ReceiptStatus.FAILED, detail="expired"))

    record = await world.chain.log.get(delivery.challenge_id)
    assert record is not None
    assert [(s.step, s.detail) for s in record.steps[-2:]] == [
        (Step.RECEIPT, "sent"),
        (Step.UNDELIVERED, "expired"),
    ]
    assert record.status is Status.SENT  # the follow-up moves on after the timeout
    assert isinstance(world.events.events[-1], CodeUndelivered)


async def test_a_receipt_for_a_channel_that_never_carried_the_code_changes_nothing() -> None:
    world = Receiving()
    delivery = await world.chain.login()
    await world.chain.deliver(delivery)  # telegram took it; smsru never did
    before = await world.chain.log.get(delivery.challenge_id)

    await world.say("smsru", Receipt("1", ReceiptStatus.DELIVERED, delivery.challenge_id))
    await world.say("telegram", Receipt("unknown", ReceiptStatus.DELIVERED))

    assert await world.chain.log.get(delivery.challenge_id) == before
    assert world.events.events == []


async def test_a_repeated_delivered_receipt_counts_once() -> None:
    world = Receiving()
    delivery = await world.chain.login()
    await world.chain.deliver(delivery)
    receipt = Receipt("r-1", ReceiptStatus.DELIVERED, delivery.challenge_id)

    await world.say("telegram", receipt)
    await world.say("telegram", receipt)

    record = await world.chain.log.get(delivery.challenge_id)
    assert record is not None
    assert [s.step for s in record.steps].count(Step.DELIVERED) == 1
    assert len(world.events.events) == 1


async def test_a_channel_without_a_reader_is_refused() -> None:
    world = Receiving()
    with pytest.raises(ReceiptRefused):
        await world.say("twilio", Receipt("SM1", ReceiptStatus.DELIVERED))
