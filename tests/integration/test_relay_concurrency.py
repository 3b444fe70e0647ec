"""Many relays on one PostgreSQL (directly and through PgBouncer in transaction
mode) against flaky receivers: every event reaches every subscribed endpoint,
each user's events in order, nothing lost (docs/events.md)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest

from referrals.adapters.clock import SystemClock
from referrals.adapters.sql import Database, open_database, sql_unit_of_work
from referrals.adapters.sql.deliveries import SqlDeliveries
from referrals.application.outbox import OutboxEvent, event_id
from referrals.application.relay import Backoff, Relay
from referrals.application.webhooks import Answer, Endpoint
from tests.defaults import DATABASE
from tests.namespaces import NAMESPACE

pytestmark = pytest.mark.postgres

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SHOP = Endpoint("shop", "https://shop.example/", SECRET, frozenset({"referral.applied"}))
CRM = Endpoint("crm", "https://crm.example/", SECRET, frozenset({"*"}))
USERS, RELAYS = 60, 4
KINDS = ("user.created", "login.succeeded", "referral.applied")


@dataclass
class Receivers:
    """Both endpoints' receivers: fail a share of requests, record the rest."""

    failing: float
    draw: random.Random = field(default_factory=lambda: random.Random(7))
    arrived: dict[str, list[OutboxEvent]] = field(default_factory=lambda: defaultdict(list))

    async def post(self, endpoint: Endpoint, event: OutboxEvent) -> Answer:
        await asyncio.sleep(self.draw.random() / 1000)  # interleave the relays
        if self.draw.random() < self.failing:
            return Answer(503, 0.001)
        self.arrived[endpoint.name].append(event)
        return Answer(200, 0.001)


async def _write(database: Database) -> list[OutboxEvent]:
    written: list[OutboxEvent] = []
    unit_of_work = sql_unit_of_work(database)
    now = SystemClock().now()
    for step, kind in enumerate(KINDS):
        for user in range(1, USERS + 1):
            at = now + step + user / 1000
            event = OutboxEvent(event_id(at), kind, at, user, {"version": 1})
            async with unit_of_work() as uow:
                uow.outbox.add(event)
                await uow.commit()
            written.append(event)
    return written


async def _relay_until_done(relay: Relay, done: asyncio.Event) -> None:
    while not done.is_set():
        await relay.fan_out()
        for endpoint in relay.endpoints:
            await relay.send(endpoint)
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    "through", ["postgresql", pytest.param("pgbouncer", marks=pytest.mark.pgbouncer)]
)
async def test_many_relays_deliver_everything_in_order_per_user(
    request: pytest.FixtureRequest, postgres_database: Database, through: str
) -> None:
    url, prepared = postgres_database.url, True
    if through == "pgbouncer":
        url, prepared = request.getfixturevalue("pgbouncer_url"), False
    written = await _write(postgres_database)
    receivers = Receivers(failing=0.3)
    databases = [
        open_database(
            url,
            namespace=NAMESPACE,
            **(DATABASE | {"pool_size": 3, "prepared_statements": prepared}),
        )
        for _ in range(RELAYS)
    ]
    for database in databases:
        await database.open()
    relays = [
        Relay(
            deliveries=SqlDeliveries(database),
            poster=receivers,
            endpoints=(SHOP, CRM),
            clock=SystemClock(),
            retry_for=3600.0,
            backoff=Backoff(0.01, 0.05),
            lease=30.0,
            batch=25,
            concurrency=8,
        )
        for database in databases
    ]
    done = asyncio.Event()
    running = [asyncio.create_task(_relay_until_done(relay, done)) for relay in relays]
    try:
        async with asyncio.timeout(120):
            while True:
                figures = await relays[0].deliveries.figures(0.0)
                if not figures.oldest_pending and figures.oldest_unfanned is None:
                    break
                await asyncio.sleep(0.05)
    finally:
        done.set()
        await asyncio.gather(*running)
        for database in databases:
            await database.close()

    for endpoint in (SHOP, CRM):
        wanted = [event for event in written if endpoint.wants(event.type)]
        arrived = receivers.arrived[endpoint.name]
        assert {event.id for event in arrived} == {event.id for event in wanted}
        duplicates = sum(n - 1 for n in Counter(e.id for e in arrived).values())
        assert duplicates < len(wanted)  # counted; none expected with these leases
        first: dict[int | None, list[OutboxEvent]] = defaultdict(list)
        seen: set[str] = set()
        for event in arrived:
            if event.id not in seen:
                seen.add(event.id)
                first[event.user_id].append(event)
        for events in first.values():
            assert [e.at for e in events] == sorted(e.at for e in events)
