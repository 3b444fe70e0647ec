"""A login's code down a chain of channels: failover, circuits, receipts' timeout."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from referrals.adapters.memory import (
    InMemoryChallengeStore,
    InMemoryDeliveryLedger,
    InMemoryRateLimiter,
    InMemorySessionStore,
    InMemoryUsers,
    RecordingCodeSender,
)
from referrals.application.deliver_code import DeliverCode, Delivery
from referrals.application.errors import DeliveryFailed, Failure
from referrals.application.events import ChannelFailed, Hooks
from referrals.application.ports import CodeDelivery, SmsMessage
from referrals.application.request_code import CodeRequest
from referrals.domain.codes import open_code
from referrals.domain.delivery import CircuitState, Status, Step
from referrals.domain.routes import Routes
from referrals.service import Adapters, build_container
from referrals.settings import Settings
from referrals.testing import FakeClock

SECRET = b"s" * 32
CHAIN = ("telegram", "smsru", "smsc")
PHONE = "+79991234567"
CREDENTIALS = {"telegram_token": "t", "smsru_api_id": "i", "smsc_login": "l", "smsc_password": "p"}
"""The channels' settings: the gateways are stand-ins, but a route needs them."""


@dataclass
class ScriptedGateway:
    """Answers each send with the next failure of ``script`` (``None``: accepted)."""

    script: list[Exception | None] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)

    async def send(self, message: SmsMessage) -> str:
        failure = self.script.pop(0) if self.script else None
        if failure is not None:
            raise failure
        self.sent.append(message.text)
        return f"id-{len(self.sent)}"


def transient() -> DeliveryFailed:
    return DeliveryFailed("timed out")


class Chain:
    def __init__(self, **settings: object) -> None:
        self.clock = FakeClock()
        self.gateways = {name: ScriptedGateway() for name in CHAIN}
        self.sender = RecordingCodeSender()
        self.follow_ups = RecordingCodeSender()
        defaults: dict[str, object] = {
            "sms_routes": Routes(default=CHAIN),
            "receipt_timeout": 20,
            **CREDENTIALS,
        }
        built = Settings(secret_key=SECRET, **(defaults | settings))  # type: ignore[arg-type]
        adapters = Adapters(
            unit_of_work=InMemoryUsers().unit_of_work,
            challenges=InMemoryChallengeStore(),
            sessions=InMemorySessionStore(),
            limiter=InMemoryRateLimiter(),
            delivery_ledger=InMemoryDeliveryLedger(),
            code_sender=self.sender,
            sms_channels=self.gateways,
            clock=self.clock,
        )
        self.failures: list[ChannelFailed] = []
        hooks = Hooks()
        hooks.add(ChannelFailed, self._failed)
        container = build_container(built, adapters=adapters, hooks=hooks)
        self.request_code = container.request_code()
        self.log = container.delivery_log()
        self.circuit = container.circuit()
        self.deliver: DeliverCode = dataclasses.replace(
            container.deliver_code(),
            follow_ups=self.follow_ups,
            receipt_channels=frozenset(CHAIN),
            sleep=self._sleep,
        )

    async def _failed(self, event: ChannelFailed) -> None:
        self.failures.append(event)

    async def _sleep(self, seconds: float) -> None:
        self.clock.advance(seconds)

    async def login(self, phone: str = PHONE) -> CodeDelivery:
        await self.request_code(CodeRequest(phone=phone, client_ip="10.0.0.1"))
        return self.sender.queued[-1]

    def sent(self) -> dict[str, list[str]]:
        return {name: gateway.sent for name, gateway in self.gateways.items() if gateway.sent}


async def test_the_first_channel_that_takes_the_code_carries_it() -> None:
    chain = Chain()
    delivery = await chain.login()
    assert await chain.deliver(delivery) is Delivery.SENT
    code = open_code(SECRET, delivery.challenge_id, delivery.sealed_code)
    [text] = chain.sent()["telegram"]
    assert code in text
    record = await chain.log.get(delivery.challenge_id)
    assert record is not None
    assert record.status is Status.SENT
    assert record.channel == "telegram"
    assert record.route == CHAIN


async def test_a_channel_that_keeps_failing_passes_the_same_code_to_the_next() -> None:
    chain = Chain()
    chain.gateways["telegram"].script = [transient(), transient()]
    delivery = await chain.login()
    assert await chain.deliver(delivery) is Delivery.SENT
    code = open_code(SECRET, delivery.challenge_id, delivery.sealed_code)
    assert list(chain.sent()) == ["smsru"]
    assert code in chain.sent()["smsru"][0]
    record = await chain.log.get(delivery.challenge_id)
    assert record is not None
    assert [(s.step, s.channel) for s in record.steps] == [
        (Step.QUEUED, ""),
        (Step.FAILED, "telegram"),
        (Step.FAILED, "telegram"),
        (Step.SENT, "smsru"),
    ]
    assert record.failed_over


async def test_a_transient_failure_is_retried_on_the_same_channel_first() -> None:
    chain = Chain()
    chain.gateways["telegram"].script = [transient()]
    assert await chain.deliver(await chain.login()) is Delivery.SENT
    assert list(chain.sent()) == ["telegram"]


@pytest.mark.parametrize(
    "failure", [Failure.UNREACHABLE, Failure.PERMANENT, Failure.BALANCE], ids=lambda f: f.value
)
async def test_a_failure_no_retry_can_mend_moves_on_at_once(
    failure: Failure, caplog: pytest.LogCaptureFixture
) -> None:
    chain = Chain()
    chain.gateways["telegram"].script = [DeliveryFailed("no", failure)]
    delivery = await chain.login()
    assert await chain.deliver(delivery) is Delivery.SENT
    assert list(chain.sent()) == ["smsru"]
    record = await chain.log.get(delivery.challenge_id)
    assert record is not None
    failed = [(s.step, s.channel, s.detail) for s in record.steps if s.step is Step.FAILED]
    assert failed == [(Step.FAILED, "telegram", failure.value)]
    assert [(e.channel, e.reason) for e in chain.failures] == [("telegram", failure.value)]
    balance_alerts = [
        r for r in caplog.records if r.levelname == "ERROR" and "balance" in r.message
    ]
    assert bool(balance_alerts) is (failure is Failure.BALANCE)


async def test_the_gateway_gets_the_code_its_ttl_language_and_text() -> None:
    chain = Chain()
    seen: list[SmsMessage] = []
    gateway = chain.gateways["telegram"]

    async def keep(message: SmsMessage) -> str:
        seen.append(message)
        return "telegram-42"

    gateway.send = keep  # type: ignore[method-assign]
    delivery = await chain.login()
    chain.clock.advance(10)
    assert await chain.deliver(delivery) is Delivery.SENT
    [message] = seen
    assert message.code == open_code(SECRET, delivery.challenge_id, delivery.sealed_code)
    assert message.code in message.text
    assert message.ttl == pytest.approx(delivery.expires_at - chain.clock.now())
    assert message.language == "en"
    assert message.idempotency_key == delivery.challenge_id
    assert await chain.log.login_of("telegram", "telegram-42") == delivery.challenge_id


async def test_when_every_channel_fails_the_login_ends_delivery_failed() -> None:
    chain = Chain(sms_retries=0)
    for gateway in chain.gateways.values():
        gateway.script = [transient()]
    delivery = await chain.login()
    assert await chain.deliver(delivery) is Delivery.FAILED
    record = await chain.log.get(delivery.challenge_id)
    assert record is not None
    assert record.status is Status.DELIVERY_FAILED
    assert chain.sent() == {}


async def test_an_open_circuit_skips_its_channel_without_asking_it() -> None:
    chain = Chain(circuit_failures=2, sms_retries=1)
    chain.gateways["telegram"].script = [transient(), transient()]
    await chain.deliver(await chain.login())  # two failures open telegram's circuit
    assert await chain.circuit.state("telegram", chain.clock.now()) is CircuitState.OPEN
    chain.clock.advance(10)
    delivery = await chain.login("+79997654321")
    chain.gateways["telegram"].script = [None]  # it would answer now, but is not asked
    assert await chain.deliver(delivery) is Delivery.SENT
    assert chain.gateways["telegram"].script == [None]
    record = await chain.log.get(delivery.challenge_id)
    assert record is not None
    assert (Step.SKIPPED, "telegram") in [(s.step, s.channel) for s in record.steps]


async def test_after_the_cooldown_a_probe_closes_the_circuit() -> None:
    chain = Chain(circuit_failures=2, circuit_cooldown=30)
    chain.gateways["telegram"].script = [transient(), transient()]
    await chain.deliver(await chain.login())
    chain.clock.advance(60)
    delivery = await chain.login()
    assert await chain.deliver(delivery) is Delivery.SENT
    assert {name: len(texts) for name, texts in chain.sent().items()} == {"telegram": 1, "smsru": 1}
    assert await chain.circuit.state("telegram", chain.clock.now()) is CircuitState.CLOSED


async def test_an_accepted_code_queues_a_follow_up_for_the_receipt_timeout() -> None:
    chain = Chain(receipt_timeout=20)
    delivery = await chain.login()
    await chain.deliver(delivery)
    [follow_up] = chain.follow_ups.queued
    assert follow_up.after == "telegram"
    assert follow_up.not_before == pytest.approx(chain.clock.now() + 20)
    assert follow_up.sealed_code == delivery.sealed_code


async def test_without_a_receipt_the_follow_up_sends_the_same_code_on_the_next_channel() -> None:
    chain = Chain()
    delivery = await chain.login()
    await chain.deliver(delivery)
    [follow_up] = chain.follow_ups.queued
    assert await chain.deliver(follow_up) is Delivery.SENT
    sent = chain.sent()
    assert list(sent) == ["telegram", "smsru"]
    assert sent["telegram"][0] == sent["smsru"][0]  # one code, the same text
    record = await chain.log.get(delivery.challenge_id)
    assert record is not None
    assert record.channel == "smsru"
    assert (Step.TIMEOUT, "telegram") in [(s.step, s.channel) for s in record.steps]


async def test_a_delivered_receipt_stops_the_follow_up() -> None:
    chain = Chain()
    delivery = await chain.login()
    await chain.deliver(delivery)
    await chain.log.add(
        delivery.challenge_id,
        dataclasses.replace(
            (await chain.log.get(delivery.challenge_id)).steps[-1],  # type: ignore[union-attr]
            step=Step.DELIVERED,
        ),
    )
    [follow_up] = chain.follow_ups.queued
    assert await chain.deliver(follow_up) is Delivery.DELIVERED
    assert list(chain.sent()) == ["telegram"]


async def test_a_follow_up_of_a_verified_or_superseded_login_sends_nothing() -> None:
    chain = Chain()
    await chain.deliver(await chain.login())
    [follow_up] = chain.follow_ups.queued
    chain.clock.advance(60)
    await chain.login()  # a new login supersedes the first one's code
    assert await chain.deliver(follow_up) is Delivery.STALE
    assert list(chain.sent()) == ["telegram"]


async def test_no_follow_up_when_the_code_expires_before_the_timeout() -> None:
    chain = Chain(receipt_timeout=400)
    await chain.deliver(await chain.login())
    assert chain.follow_ups.queued == []


async def test_each_channel_sends_a_logins_code_at_most_once() -> None:
    chain = Chain()
    delivery = await chain.login()
    await chain.deliver(delivery)
    [follow_up] = chain.follow_ups.queued
    await chain.deliver(follow_up)
    assert await chain.deliver(follow_up) is Delivery.DUPLICATE  # a redelivered follow-up
    assert await chain.deliver(delivery) is Delivery.DUPLICATE  # a redelivered first task
    assert {name: len(texts) for name, texts in chain.sent().items()} == {
        "telegram": 1,
        "smsru": 1,
    }
