import dataclasses

import pytest

from referrals.application.deliver_code import DeliverCode, Delivery
from referrals.application.errors import DeliveryFailed
from referrals.application.ports import Claim
from referrals.domain.phone import Phone
from tests.unit.conftest import SECRET, World


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

    async def send(self, phone: Phone, text: str, idempotency_key: str) -> None:
        self.calls += 1
        raise DeliveryFailed("carrier down")


async def test_a_failed_send_releases_the_claim_so_a_retry_can_send(world: World) -> None:
    await world.login("+79991234567")
    [delivery] = world.queued
    failing = dataclasses.replace(world, gateway=FailingGateway())
    with pytest.raises(DeliveryFailed):
        await failing.deliver_code(delivery)
    assert await world.deliver_code(delivery) is Delivery.SENT


async def test_a_worker_that_died_mid_send_is_replaced_after_the_lease(world: World) -> None:
    await world.login("+79991234567")
    [delivery] = world.queued
    # The first worker claimed the code and died before sending it.
    lease = world.deliver_code.lease
    claim = await world.ledger.claim(delivery.challenge_id, "dead", lease, world.clock.now())
    assert claim is Claim.GRANTED
    assert await world.deliver_code(delivery) is Delivery.BUSY
    world.clock.advance(lease)
    assert await world.deliver_code(delivery) is Delivery.SENT


def test_a_deliver_code_built_without_a_lease_is_refused(world: World) -> None:
    """Issue 15: ``DeliverCode`` had a lease of its own, 30 s, the queue's
    redelivery time, so one built by hand held its claim until the very
    moment the queue hands the task to a second worker (the double send
    ``LEASE_FACTOR`` exists to prevent). The lease has one home:
    ``Settings.delivery_lease``, and the caller must pass it."""
    with pytest.raises(TypeError, match="lease"):
        DeliverCode(
            challenges=world.challenges,
            delivery_ledger=world.ledger,
            sms_gateway=world.gateway,
            clock=world.clock,
            secret=SECRET,
        )  # type: ignore[call-arg]
