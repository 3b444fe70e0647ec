"""The relay: each event to each subscribed endpoint, retried, ordered per user,
dead after its window, replayable (docs/events.md)."""

from __future__ import annotations

import asyncio

from referrals.adapters.memory import InMemoryDeliveries, InMemoryUsers
from referrals.application.events import Event
from referrals.application.outbox import OutboxEvent, event_id
from referrals.application.relay import Backoff, Relay
from referrals.application.relay_loops import RelayLoops
from referrals.application.webhooks import (
    Answer,
    DeliveriesMeasured,
    Endpoint,
    State,
    WebhookAttempted,
)
from referrals.testing import FakeClock

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SHOP = Endpoint("shop", "https://shop.example/", SECRET, frozenset({"referral.applied"}))
CRM = Endpoint("crm", "https://crm.example/", SECRET, frozenset({"*"}))
RETRY_FOR = 600.0


class FakePoster:
    """Answers by endpoint (200 unless told), and remembers what it was sent."""

    def __init__(self) -> None:
        self.answers: dict[str, int | None] = {}
        self.sent: list[tuple[str, OutboxEvent]] = []
        self.posted = asyncio.Event()

    async def post(self, endpoint: Endpoint, event: OutboxEvent) -> Answer:
        self.sent.append((endpoint.name, event))
        self.posted.set()
        status = self.answers.get(endpoint.name, 200)
        return Answer(status, 0.01, None if status else "no answer")

    def ids(self, endpoint: str) -> list[str]:
        return [event.id for name, event in self.sent if name == endpoint]


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.events.append(event)


class World:
    def __init__(self, *endpoints: Endpoint) -> None:
        self.users = InMemoryUsers()
        self.deliveries = InMemoryDeliveries(self.users.outbox)
        self.poster = FakePoster()
        self.clock = FakeClock()
        self.recorder = Recorder()
        self.relay = Relay(
            deliveries=self.deliveries,
            poster=self.poster,
            endpoints=endpoints or (SHOP, CRM),
            clock=self.clock,
            retry_for=RETRY_FOR,
            backoff=Backoff(10.0, 120.0),
            lease=30.0,
            batch=100,
            concurrency=8,
            events=self.recorder,
            draw=lambda low, high: high,  # the jitter's top: the test knows when
        )

    async def emit(self, kind: str, user_id: int | None) -> OutboxEvent:
        now = self.clock.now()
        event = OutboxEvent(event_id(now), kind, now, user_id, {"version": 1})
        async with self.users.unit_of_work() as uow:
            uow.outbox.add(event)
            await uow.commit()
        return event

    async def run(self) -> None:
        """One fan-out and one send to every endpoint."""
        await self.relay.fan_out()
        for endpoint in self.relay.endpoints:
            await self.relay.send(endpoint)


async def test_each_event_goes_to_every_endpoint_that_subscribes_to_its_type() -> None:
    world = World()
    created = await world.emit("user.created", 1)
    applied = await world.emit("referral.applied", 1)
    await world.run()
    await world.run()
    assert world.poster.ids("crm") == [created.id, applied.id]
    assert world.poster.ids("shop") == [applied.id]


async def test_a_failure_is_retried_with_growing_waits_and_the_same_event() -> None:
    world = World(CRM)
    event = await world.emit("user.created", 1)
    world.poster.answers["crm"] = 503
    await world.run()
    world.clock.advance(9)
    await world.run()
    assert world.poster.ids("crm") == [event.id]  # the first retry waits 10 s
    world.clock.advance(1)
    await world.run()
    world.clock.advance(19)
    await world.run()
    assert world.poster.ids("crm") == [event.id] * 2  # the second 20 s
    world.poster.answers["crm"] = 200
    world.clock.advance(1)
    await world.run()
    world.clock.advance(10**6)
    await world.run()
    assert world.poster.ids("crm") == [event.id] * 3


async def test_a_users_events_wait_behind_their_failing_first_and_others_go_on() -> None:
    world = World(CRM)
    created = await world.emit("user.created", 1)
    world.poster.answers["crm"] = 503
    await world.run()
    applied = await world.emit("referral.applied", 1)
    other = await world.emit("user.created", 2)
    world.poster.answers["crm"] = 200
    await world.run()
    assert world.poster.ids("crm") == [created.id, other.id]
    world.clock.advance(10)
    await world.run()
    await world.run()
    assert world.poster.ids("crm") == [created.id, other.id, created.id, applied.id]


async def test_a_failing_endpoint_does_not_hold_up_another() -> None:
    world = World()
    world.poster.answers["shop"] = None
    applied = await world.emit("referral.applied", 1)
    await world.run()
    assert world.poster.ids("crm") == [applied.id]
    attempted = [e for e in world.recorder.events if isinstance(e, WebhookAttempted)]
    outcomes = {(e.endpoint, e.outcome, e.status) for e in attempted}
    assert outcomes == {("crm", State.DELIVERED, 200), ("shop", State.PENDING, None)}


async def test_after_its_retry_window_a_delivery_is_dead_and_a_replay_sends_it_again() -> None:
    world = World(CRM)
    event = await world.emit("user.created", 1)
    world.poster.answers["crm"] = 503
    for _ in range(20):
        await world.run()
        world.clock.advance(60)
    [dead] = await world.deliveries.dead(10)
    assert dead.event.id == event.id
    tries = len(world.poster.ids("crm"))
    [delivery] = dead.deliveries
    assert len(delivery.attempts) == tries
    assert delivery.attempts[-1].at >= event.at + RETRY_FOR  # its last try was at the deadline
    world.poster.answers["crm"] = 200
    assert await world.relay.replay(event.at) == 1
    await world.run()
    assert world.poster.ids("crm") == [event.id] * (tries + 1)
    assert await world.deliveries.dead(10) == []


async def test_a_paused_endpoint_gets_nothing_until_resumed() -> None:
    world = World()
    await world.deliveries.set_paused("shop", True)
    applied = await world.emit("referral.applied", 1)
    await world.run()
    assert world.poster.ids("shop") == []
    assert world.poster.ids("crm") == [applied.id]
    await world.deliveries.set_paused("shop", False)
    await world.run()
    assert world.poster.ids("shop") == [applied.id]


async def test_the_backlog_is_measured_for_the_metrics() -> None:
    world = World(CRM)
    world.poster.answers["crm"] = 503
    event = await world.emit("user.created", 1)
    await world.run()
    await world.relay.measure()
    [measured] = [e for e in world.recorder.events if isinstance(e, DeliveriesMeasured)]
    assert measured.figures.oldest_pending == {"crm": event.at}


def test_backoff_doubles_up_to_its_limit_within_its_jitter() -> None:
    backoff = Backoff(5.0, 60.0)
    assert [backoff.delay(n, lambda _, high: high) for n in (1, 2, 3, 4, 5, 99)] == [
        5.0, 10.0, 20.0, 40.0, 60.0, 60.0
    ]  # fmt: skip
    assert backoff.delay(3, lambda low, _: low) == 10.0


async def test_the_loops_deliver_without_being_driven_and_stop_when_told() -> None:
    world = World(CRM)
    event = await world.emit("user.created", 1)
    loops = RelayLoops(world.relay, poll=0.01, keep=3600.0, purge_batch=10)
    loops.start()
    try:
        await asyncio.wait_for(world.poster.posted.wait(), 5)
    finally:
        await loops.stop()
    assert world.poster.ids("crm") == [event.id]
