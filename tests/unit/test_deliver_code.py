import dataclasses

import pytest

from referrals.application.deliver_code import Delivery
from referrals.application.delivery import Route, ledger_key
from referrals.application.errors import DeliveryFailed
from referrals.application.ports import Claim, SmsMessage
from tests.unit.conftest import World


async def test_a_queued_code_is_sent_once_with_its_plain_digits(world: World) -> None:
    _, code = await world.login("+79991234567")
    [delivery] = world.queued
    assert await world.deliver_code(delivery) is Delivery.SENT
    [sms] = world.sent
    assert sms.phone == "+79991234567" and code in sms.text
    assert sms.idempotency_key == delivery.challenge_id


async def test_a_redelivered_task_sends_nothing_more(world: World) -> None:
    await world.login("+79991234567")
    [delivery] = world.queued
    await world.deliver_code(delivery)
    assert await world.deliver_code(delivery) is Delivery.DUPLICATE
    assert len(world.sent) == 1


async def test_an_expired_challenge_is_dropped(world: World) -> None:
    await world.login("+79991234567")
    world.clock.advance(300)
    assert await world.deliver_code(world.queued[0]) is Delivery.STALE
    assert world.sent == []


async def test_a_superseded_challenge_is_dropped(world: World) -> None:
    await world.login("+79991234567")
    world.clock.advance(60)
    await world.login("+79991234567")
    old, new = world.queued
    assert await world.deliver_code(old) is Delivery.STALE
    assert await world.deliver_code(new) is Delivery.SENT


class FailingGateway:
    def __init__(self) -> None:
        self.calls = 0

    async def send(self, message: SmsMessage) -> None:
        self.calls += 1
        raise DeliveryFailed("carrier down")


async def test_a_failed_send_ends_the_login_delivery_failed_and_a_retry_can_still_send(
    world: World,
) -> None:
    await world.login("+79991234567")
    [delivery] = world.queued
    failing = dataclasses.replace(world, gateway=FailingGateway())
    assert await failing.deliver_code(delivery) is Delivery.FAILED
    assert isinstance(failing.gateway, FailingGateway)
    assert failing.gateway.calls == 2  # one retry of a transient failure
    assert await world.deliver_code(delivery) is Delivery.SENT


async def test_a_worker_that_died_mid_send_is_replaced_after_the_lease(world: World) -> None:
    await world.login("+79991234567")
    [delivery] = world.queued
    # The first worker claimed the code on the console channel and died before sending it.
    lease = world.deliver_code.route.lease
    key = ledger_key(delivery.challenge_id, "console")
    assert await world.ledger.claim(key, "dead", lease, world.clock.now()) is Claim.GRANTED
    assert await world.deliver_code(delivery) is Delivery.BUSY
    world.clock.advance(lease)
    assert await world.deliver_code(delivery) is Delivery.SENT


def test_a_route_built_without_a_lease_is_refused(world: World) -> None:
    """Issue 15: ``DeliverCode`` had a lease of its own, 30 s, the queue's
    redelivery time, so one built by hand held its claim until the very
    moment the queue hands the task to a second worker (the double send
    ``LEASE_FACTOR`` exists to prevent). The lease has one home:
    ``Settings.delivery_lease``, and the caller must pass it."""
    with pytest.raises(TypeError, match="lease"):
        Route(  # type: ignore[call-arg]
            channels={"console": world.gateway},
            circuit=world.deliver_code.route.circuit,
            delivery_ledger=world.ledger,
            delivery_log=world.deliver_code.delivery_log,
            clock=world.clock,
            retries=1,
        )
