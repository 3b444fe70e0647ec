"""The Deliveries contract (webhook deliveries over an outbox), for every adapter."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from referrals.application.outbox import OutboxEvent, event_id
from referrals.application.ports import UnitOfWorkFactory
from referrals.application.webhooks import (
    Answer,
    Claim,
    Deliveries,
    DeliveryFigures,
    Endpoint,
    Finished,
    State,
)
from referrals.domain.codes import InviteCode
from referrals.domain.phone import Phone

NOW = 1_800_000_000.0
LEASE = 30.0
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SHOP = Endpoint("shop", "https://shop.example/hooks", SECRET, frozenset({"referral.applied"}))
CRM = Endpoint("crm", "https://crm.example/hooks", SECRET, frozenset({"*"}))
OK = Answer(200, 0.05)
DOWN = Answer(503, 0.01)


@dataclass(frozen=True, slots=True)
class Store:
    """An outbox (written through ``unit_of_work``) and the ``deliveries`` over it."""

    unit_of_work: UnitOfWorkFactory
    deliveries: Deliveries


async def write(store: Store, *events: OutboxEvent) -> None:
    async with store.unit_of_work() as uow:
        for event in events:
            uow.outbox.add(event)
        await uow.commit()


async def finish(
    deliveries: Deliveries, claim: Claim, answer: Answer, state: State, next_at: float, at: float
) -> None:
    await deliveries.finish([Finished(claim, answer, state, next_at, at)])


def an_event(kind: str, user_id: int | None, at: float = NOW) -> OutboxEvent:
    return OutboxEvent(event_id(at), kind, at, user_id, {"version": 1, "user_id": user_id})


class DeliveriesContract:
    """Subclass it and give a ``webhook_store`` fixture: a :class:`Store`, empty."""

    pytestmark = pytest.mark.asyncio

    async def test_each_event_becomes_one_delivery_per_endpoint_that_wants_its_type(
        self, webhook_store: Store
    ) -> None:
        store, deliveries = webhook_store, webhook_store.deliveries
        created, applied = an_event("user.created", 1), an_event("referral.applied", 2)
        await write(store, created, applied)
        assert await deliveries.fan_out([SHOP, CRM], NOW, 100) == 2
        assert await deliveries.fan_out([SHOP, CRM], NOW, 100) == 0
        crm = await deliveries.claim("crm", NOW, LEASE, 10)
        shop = await deliveries.claim("shop", NOW, LEASE, 10)
        assert sorted(c.event.id for c in crm) == sorted([created.id, applied.id])
        assert [(c.event, c.attempt, c.since) for c in shop] == [(applied, 1, NOW)]

    async def test_fan_out_takes_at_most_its_batch_oldest_first(self, webhook_store: Store) -> None:
        events = [an_event("user.created", n, NOW + n) for n in range(5)]
        await write(webhook_store, *events)
        deliveries = webhook_store.deliveries
        assert await deliveries.fan_out([CRM], NOW, 3) == 3
        claimed = await deliveries.claim("crm", NOW, LEASE, 10)
        assert sorted(c.event.id for c in claimed) == sorted(e.id for e in events[:3])
        assert await deliveries.fan_out([CRM], NOW, 3) == 2

    async def test_a_users_next_event_waits_until_the_one_before_is_delivered(
        self, webhook_store: Store
    ) -> None:
        deliveries = webhook_store.deliveries
        first, second = an_event("user.created", 7), an_event("referral.applied", 7, NOW + 1)
        other = an_event("user.created", 8, NOW + 2)
        await write(webhook_store, first, second, other)
        await deliveries.fan_out([CRM], NOW, 100)
        claimed = await deliveries.claim("crm", NOW, LEASE, 10)
        assert sorted(c.event.id for c in claimed) == sorted([first.id, other.id])
        head = next(c for c in claimed if c.event.id == first.id)
        await finish(deliveries, head, DOWN, State.PENDING, NOW + 5, NOW)
        assert await deliveries.claim("crm", NOW + 1, LEASE, 10) == []  # held behind the first
        [again] = await deliveries.claim("crm", NOW + 5, LEASE, 10)
        assert (again.event.id, again.attempt) == (first.id, 2)
        await finish(deliveries, again, OK, State.DELIVERED, NOW + 5, NOW + 5)
        [then] = await deliveries.claim("crm", NOW + 5, LEASE, 10)
        assert then.event == second

    async def test_only_the_unit_that_welcomes_a_user_writes_their_user_created_first(
        self, webhook_store: Store
    ) -> None:
        store, deliveries = webhook_store, webhook_store.deliveries
        async with store.unit_of_work() as uow:
            user = await uow.users.add(Phone("+79990001234"), InviteCode("WELCOM"), "a-login")
            await uow.commit()
        assert user is not None
        created = [an_event("user.created", user.id, NOW + n) for n in range(2)]
        for n, event in enumerate(created):  # a second welcome writes no user.created
            async with store.unit_of_work() as uow:
                uow.outbox.add(an_event("login.succeeded", user.id, NOW + n))
                uow.outbox.welcome(user.id, event)
                await uow.commit()
        assert await deliveries.fan_out([CRM], NOW, 100) == 3
        [head] = await deliveries.claim("crm", NOW, LEASE, 10)
        assert head.event == created[0]  # ahead of the login's own event

    async def test_a_claim_holds_a_delivery_until_its_lease_ends(
        self, webhook_store: Store
    ) -> None:
        deliveries = webhook_store.deliveries
        await write(webhook_store, an_event("user.created", 1))
        await deliveries.fan_out([CRM], NOW, 100)
        [claim] = await deliveries.claim("crm", NOW, LEASE, 10)
        assert await deliveries.claim("crm", NOW + LEASE - 1, LEASE, 10) == []
        [retaken] = await deliveries.claim("crm", NOW + LEASE, LEASE, 10)
        assert (retaken.event.id, retaken.attempt) == (claim.event.id, 2)

    async def test_endpoints_have_their_own_deliveries(self, webhook_store: Store) -> None:
        deliveries = webhook_store.deliveries
        applied = an_event("referral.applied", 1)
        await write(webhook_store, applied)
        await deliveries.fan_out([SHOP, CRM], NOW, 100)
        [shop] = await deliveries.claim("shop", NOW, LEASE, 10)
        await finish(deliveries, shop, DOWN, State.PENDING, NOW + 3600, NOW)
        [crm] = await deliveries.claim("crm", NOW, LEASE, 10)
        assert crm.event.id == applied.id

    async def test_a_dead_delivery_is_shown_and_counted_until_replayed(
        self, webhook_store: Store
    ) -> None:
        deliveries = webhook_store.deliveries
        event = an_event("user.created", 1)
        await write(webhook_store, event)
        await deliveries.fan_out([CRM], NOW, 100)
        [claim] = await deliveries.claim("crm", NOW, LEASE, 10)
        await finish(deliveries, claim, Answer(None, 10.0, "no answer"), State.DEAD, NOW, NOW + 10)
        assert await deliveries.claim("crm", NOW + 10**6, LEASE, 10) == []
        [dead] = await deliveries.dead(10)
        assert dead.event.id == event.id
        assert [(d.endpoint, d.state) for d in dead.deliveries] == [("crm", State.DEAD)]
        assert (await deliveries.figures(NOW + 20)).dead == {"crm": 1}
        assert await deliveries.replay(NOW - 1, None, NOW + 100) == 1
        [replayed] = await deliveries.claim("crm", NOW + 100, LEASE, 10)
        assert (replayed.event.id, replayed.attempt, replayed.since) == (event.id, 1, NOW + 100)
        assert await deliveries.dead(10) == []

    async def test_replay_takes_events_since_a_time_to_one_endpoint(
        self, webhook_store: Store
    ) -> None:
        deliveries = webhook_store.deliveries
        old, new = an_event("referral.applied", 1, NOW), an_event("referral.applied", 2, NOW + 50)
        await write(webhook_store, old, new)
        await deliveries.fan_out([SHOP, CRM], NOW, 100)
        for endpoint in ("shop", "crm"):
            for claim in await deliveries.claim(endpoint, NOW + 60, LEASE, 10):
                await finish(deliveries, claim, OK, State.DELIVERED, NOW + 60, NOW + 60)
        assert await deliveries.replay(NOW + 50, "shop", NOW + 70) == 1
        assert await deliveries.claim("crm", NOW + 70, LEASE, 10) == []
        [again] = await deliveries.claim("shop", NOW + 70, LEASE, 10)
        assert again.event.id == new.id

    async def test_finishing_a_delivery_another_relay_finished_changes_nothing(
        self, webhook_store: Store
    ) -> None:
        deliveries = webhook_store.deliveries
        await write(webhook_store, an_event("user.created", 1))
        await deliveries.fan_out([CRM], NOW, 100)
        [first] = await deliveries.claim("crm", NOW, LEASE, 10)
        [second] = await deliveries.claim("crm", NOW + LEASE, LEASE, 10)  # the first relay died
        await finish(deliveries, second, OK, State.DELIVERED, NOW + LEASE, NOW + LEASE)
        await finish(deliveries, first, DOWN, State.PENDING, NOW + LEASE + 1, NOW + LEASE + 1)
        assert await deliveries.claim("crm", NOW + 10**6, LEASE, 10) == []
        report = await deliveries.event(first.event.id)
        assert report is not None
        [delivery] = report.deliveries
        assert delivery.state is State.DELIVERED
        assert [a.status for a in delivery.attempts] == [200, 503]

    async def test_an_event_shows_each_attempt_with_its_answer(self, webhook_store: Store) -> None:
        deliveries = webhook_store.deliveries
        event = an_event("user.created", 1)
        await write(webhook_store, event)
        await deliveries.fan_out([CRM], NOW, 100)
        [claim] = await deliveries.claim("crm", NOW, LEASE, 10)
        await finish(
            deliveries, claim, Answer(None, 10.0, "no answer"), State.PENDING, NOW + 5, NOW
        )
        [claim] = await deliveries.claim("crm", NOW + 5, LEASE, 10)
        await finish(deliveries, claim, OK, State.DELIVERED, NOW + 5, NOW + 5)
        report = await deliveries.event(event.id)
        assert report is not None
        assert report.event == event
        [delivery] = report.deliveries
        assert (delivery.endpoint, delivery.state, delivery.next_at) == (
            "crm",
            State.DELIVERED,
            None,
        )
        assert [(a.at, a.status, a.seconds, a.error) for a in delivery.attempts] == [
            (NOW, None, 10.0, "no answer"),
            (NOW + 5, 200, 0.05, None),
        ]
        assert await deliveries.event(event_id(NOW)) is None

    async def test_events_are_listed_newest_first_by_type_and_time(
        self, webhook_store: Store
    ) -> None:
        deliveries = webhook_store.deliveries
        events = [
            an_event("user.created", 1, NOW),
            an_event("login.succeeded", 1, NOW + 1),
            an_event("user.created", 2, NOW + 2),
        ]
        await write(webhook_store, *events)
        listed = await deliveries.events(None, None, 10)
        assert [r.event.id for r in listed] == [e.id for e in reversed(events)]
        created = await deliveries.events("user.created", NOW + 1, 10)
        assert [r.event.id for r in created] == [events[2].id]
        assert len(await deliveries.events(None, None, 2)) == 2

    async def test_paused_endpoints_are_remembered(self, webhook_store: Store) -> None:
        deliveries = webhook_store.deliveries
        assert await deliveries.paused() == frozenset()
        await deliveries.set_paused("shop", True)
        await deliveries.set_paused("crm", True)
        await deliveries.set_paused("crm", False)
        assert await deliveries.paused() == {"shop"}

    async def test_purge_deletes_old_settled_events_in_batches_and_keeps_the_rest(
        self, webhook_store: Store
    ) -> None:
        deliveries = webhook_store.deliveries
        old = [an_event("user.created", n, NOW + n) for n in range(4)]
        dead, fresh = an_event("user.created", 10, NOW + 5), an_event("user.created", 11, NOW + 500)
        await write(webhook_store, *old, dead, fresh)
        await deliveries.fan_out([CRM], NOW, 100)
        for claim in await deliveries.claim("crm", NOW + 600, LEASE, 10):
            state = State.DEAD if claim.event.id == dead.id else State.DELIVERED
            await finish(deliveries, claim, OK, state, NOW + 600, NOW + 600)
        assert await deliveries.purge(NOW + 100, 3) == 3
        assert await deliveries.purge(NOW + 100, 3) == 1
        assert await deliveries.purge(NOW + 100, 3) == 0
        left = {r.event.id for r in await deliveries.events(None, None, 10)}
        assert left == {dead.id, fresh.id}

    async def test_figures_tell_the_oldest_waiting_event_per_endpoint(
        self, webhook_store: Store
    ) -> None:
        deliveries = webhook_store.deliveries
        assert await deliveries.figures(NOW) == DeliveryFigures({}, None, {})
        await write(webhook_store, an_event("referral.applied", 1, NOW))
        await write(webhook_store, an_event("user.created", 2, NOW + 10))
        assert (await deliveries.figures(NOW + 20)).oldest_unfanned == NOW
        await deliveries.fan_out([SHOP, CRM], NOW + 20, 100)
        figures = await deliveries.figures(NOW + 20)
        assert figures.oldest_unfanned is None
        assert figures.oldest_pending == {"shop": NOW, "crm": NOW}
