"""Webhook deliveries in SQL: the relay's side of the outbox (docs/events.md).

How many relays share the work safely (PostgreSQL; SQLite serialises
writers with ``BEGIN IMMEDIATE``):

* fan-out marks a batch of rows dispatched and returns them in one
  ``UPDATE … RETURNING`` (one snapshot), then inserts their deliveries, all
  in one transaction under ``pg_try_advisory_xact_lock``: one relay fans out
  at a time, so a user's deliveries are created in the order of their
  events, and a relay that finds the lock taken skips its turn. The lock is
  the transaction's own, so PgBouncer in transaction mode keeps working;
* a claim leases due deliveries with ``FOR UPDATE SKIP LOCKED`` (relays
  never wait on each other) and only the first pending delivery of each
  user per endpoint: one of a user's events is in flight to an endpoint at
  a time, in order;
* a lease that ends (the relay died mid-POST) makes the delivery due again:
  another relay posts it, with the same ``webhook-id`` (at least once).
"""

from __future__ import annotations

import functools
import json
import zlib
from collections.abc import Sequence
from typing import Any, Protocol, Self, cast

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    null,
    select,
    text,
    true,
    update,
)
from sqlalchemy.sql import ClauseElement

from referrals.adapters.sql.compiled import Compiled, compile_statement
from referrals.adapters.sql.database import Database
from referrals.adapters.sql.namespace import Namespace
from referrals.adapters.sql.repository import Executor, Row
from referrals.adapters.sql.statements import INSERTS, dialect_named
from referrals.adapters.sql.tables import tables_for
from referrals.application.outbox import OutboxEvent
from referrals.application.webhooks import (
    AttemptRecord,
    Claim,
    DeliveryFigures,
    DeliveryReport,
    Endpoint,
    EventReport,
    Finished,
    State,
)

PENDING = State.PENDING.value


class _Unit(Executor, Protocol):
    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...


def _statements(namespace: Namespace, dialect: str) -> dict[str, ClauseElement]:
    tables = tables_for(namespace)
    o, d, a, e = (
        tables.outbox, tables.webhook_deliveries, tables.webhook_attempts, tables.webhook_endpoints
    )  # fmt: skip
    event_columns = (o.c.id, o.c.type, o.c.occurred_at, o.c.user_id, o.c.data)
    batch = (
        select(o.c.seq)
        .where(o.c.dispatched.is_(False))
        .order_by(o.c.seq)
        .limit(bindparam("limit", type_=Integer))
        .scalar_subquery()
    )
    cand, earlier = d.alias("cand"), d.alias("earlier")
    ahead = (
        select(literal(1))
        .select_from(earlier)
        .where(
            earlier.c.endpoint == cand.c.endpoint,
            earlier.c.user_id == cand.c.user_id,
            earlier.c.state == PENDING,
            earlier.c.event_seq < cand.c.event_seq,
        )
    )
    due = (
        select(cand.c.id)
        .where(
            cand.c.endpoint == bindparam("endpoint"),
            cand.c.state == PENDING,
            cand.c.next_at <= bindparam("now"),
            ~exists(ahead),
        )
        .order_by(cand.c.next_at)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True)  # SQLite: BEGIN IMMEDIATE serialises instead
        .scalar_subquery()
    )
    replay_rows = update(d).where(
        d.c.event_seq.in_(select(o.c.seq).where(o.c.occurred_at >= bindparam("since")))
    )
    replayed = {
        "state": PENDING,
        "next_at": bindparam("now"),
        "since": bindparam("now"),
        "attempts": 0,
        "done_at": null(),
    }
    settled = ~exists(
        select(literal(1)).where(d.c.event_seq == o.c.seq, d.c.state != State.DELIVERED.value)
    )
    doomed = (
        select(o.c.seq)
        .where(o.c.dispatched.is_(True), o.c.occurred_at < bindparam("before"), settled)
        .order_by(o.c.seq)
        .limit(bindparam("limit", type_=Integer))
    )
    upsert = INSERTS[dialect](e).values(name=bindparam("name"), paused=bindparam("paused"))
    listed = select(o.c.seq, *event_columns)
    return {
        "take_batch": update(o)
        .where(o.c.seq.in_(batch))
        .values(dispatched=true())
        .returning(o.c.seq, o.c.type, o.c.user_id),
        "add_delivery": INSERTS[dialect](d)
        .values(
            event_seq=bindparam("seq"),
            endpoint=bindparam("endpoint"),
            user_id=bindparam("user_id"),
            state=PENDING,
            attempts=0,
            next_at=bindparam("now"),
            since=bindparam("now"),
        )
        .on_conflict_do_nothing(),
        "lease": update(d)
        .where(d.c.id.in_(due))
        .values(
            next_at=bindparam("until"),
            attempts=d.c.attempts + 1,
            # The retry window opens at the first attempt (not while waiting in line).
            since=case((d.c.attempts == 0, bindparam("now")), else_=d.c.since),
        ),
        "leased": select(d.c.id, d.c.attempts, d.c.since, *event_columns)
        .join(o, o.c.seq == d.c.event_seq)
        .where(
            d.c.endpoint == bindparam("endpoint"),
            d.c.state == PENDING,
            d.c.next_at == bindparam("until"),
        ),
        "add_attempt": a.insert().values(
            delivery_id=bindparam("delivery_id"),
            at=bindparam("now"),
            status=bindparam("status", type_=Integer),
            seconds=bindparam("seconds"),
            error=bindparam("error", type_=String),
        ),
        "settle": update(d)
        .where(d.c.id == bindparam("delivery_id"), d.c.state == PENDING)
        .values(
            state=bindparam("state"),
            next_at=bindparam("next_at"),
            done_at=bindparam("done_at", type_=d.c.done_at.type),
        ),
        "paused": select(e.c.name).where(e.c.paused.is_(True)),
        "set_paused": upsert.on_conflict_do_update(
            index_elements=[e.c.name], set_={"paused": upsert.excluded.paused}
        ),
        "replay_all": replay_rows.values(replayed),
        "replay_one": replay_rows.where(d.c.endpoint == bindparam("endpoint")).values(replayed),
        "purge": delete(o).where(o.c.seq.in_(doomed.scalar_subquery())),
        "events_all": listed.where(o.c.occurred_at >= bindparam("since"))
        .order_by(o.c.seq.desc())
        .limit(bindparam("limit", type_=Integer)),
        "events_of_type": listed.where(
            o.c.occurred_at >= bindparam("since"), o.c.type == bindparam("type")
        )
        .order_by(o.c.seq.desc())
        .limit(bindparam("limit", type_=Integer)),
        "event": listed.where(o.c.id == bindparam("id")),
        "dead_events": listed.where(
            exists(select(literal(1)).where(d.c.event_seq == o.c.seq, d.c.state == "dead"))
        )
        .order_by(o.c.seq.desc())
        .limit(bindparam("limit", type_=Integer)),
        "deliveries_of": select(d.c.id, d.c.endpoint, d.c.state, d.c.next_at)
        .where(d.c.event_seq == bindparam("seq"))
        .order_by(d.c.endpoint),
        "attempts_of": select(a.c.at, a.c.status, a.c.seconds, a.c.error)
        .where(a.c.delivery_id == bindparam("delivery_id"))
        .order_by(a.c.id),
        "oldest_pending": select(d.c.endpoint, func.min(o.c.occurred_at))
        .join(o, o.c.seq == d.c.event_seq)
        .where(d.c.state == PENDING)
        .group_by(d.c.endpoint),
        "oldest_unfanned": select(o.c.occurred_at)
        .where(o.c.dispatched.is_(False))
        .order_by(o.c.seq)
        .limit(1),
        "dead_counts": select(d.c.endpoint, func.count())
        .where(d.c.state == "dead")
        .group_by(d.c.endpoint),
    }


@functools.cache
def _compiled(namespace: Namespace, dialect: str) -> dict[str, Compiled]:
    built = _statements(namespace, dialect)
    target = dialect_named(dialect)
    compiled = {name: compile_statement(statement, target) for name, statement in built.items()}
    key = zlib.crc32(f"{namespace.schema}.{namespace.prefix}outbox".encode())
    compiled["fan_out_lock"] = compile_statement(
        text(f"SELECT pg_try_advisory_xact_lock({key})"), target
    )
    return compiled


def _event(row: Row) -> OutboxEvent:
    """An event from the columns ``id, type, occurred_at, user_id, data``."""
    return OutboxEvent(id=row[0], type=row[1], at=row[2], user_id=row[3], data=json.loads(row[4]))


class SqlDeliveries:
    """:class:`~referrals.application.webhooks.Deliveries` in ``database``'s tables."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._sql = _compiled(database.namespace, database.dialect)

    def _unit(self, *, read_only: bool = False) -> _Unit:
        return cast(_Unit, self._database.unit_of_work(read_only=read_only))

    async def fan_out(self, endpoints: Sequence[Endpoint], now: float, limit: int) -> int:
        sql = self._sql
        async with self._unit() as unit:
            if self._database.dialect == "postgresql":
                locked = await unit.one(sql["fan_out_lock"])
                if locked is None or not locked[0]:
                    return 0  # another relay is fanning out
            rows = sorted(await unit.all(sql["take_batch"], limit=limit), key=lambda row: row[0])
            for seq, kind, user_id in rows:
                for endpoint in endpoints:
                    if endpoint.wants(kind):
                        await unit.rowcount(
                            sql["add_delivery"],
                            seq=seq,
                            endpoint=endpoint.name,
                            user_id=user_id,
                            now=now,
                        )
            await unit.commit()
        return len(rows)

    async def claim(self, endpoint: str, now: float, lease: float, limit: int) -> list[Claim]:
        until = now + lease
        async with self._unit() as unit:
            leased = await unit.rowcount(
                self._sql["lease"], endpoint=endpoint, now=now, until=until, limit=limit
            )
            rows = await unit.all(self._sql["leased"], endpoint=endpoint, until=until)
            await unit.commit()
        if not leased:
            return []
        return [Claim(row[0], endpoint, _event(row[3:]), row[1], row[2]) for row in rows]

    async def finish(self, finished: Sequence[Finished]) -> None:
        async with self._unit() as unit:
            for done in finished:
                answer = done.answer
                await unit.rowcount(
                    self._sql["add_attempt"],
                    delivery_id=done.claim.delivery_id,
                    now=done.at,
                    status=answer.status,
                    seconds=answer.seconds,
                    error=answer.error,
                )
                await unit.rowcount(
                    self._sql["settle"],
                    delivery_id=done.claim.delivery_id,
                    state=done.state.value,
                    next_at=done.next_at,
                    done_at=None if done.state is State.PENDING else done.at,
                )
            await unit.commit()

    async def paused(self) -> frozenset[str]:
        async with self._unit(read_only=True) as unit:
            return frozenset(row[0] for row in await unit.all(self._sql["paused"]))

    async def set_paused(self, endpoint: str, paused: bool) -> None:
        async with self._unit() as unit:
            await unit.rowcount(self._sql["set_paused"], name=endpoint, paused=paused)
            await unit.commit()

    async def replay(self, since: float, endpoint: str | None, now: float) -> int:
        async with self._unit() as unit:
            if endpoint is None:
                count = await unit.rowcount(self._sql["replay_all"], since=since, now=now)
            else:
                count = await unit.rowcount(
                    self._sql["replay_one"], since=since, now=now, endpoint=endpoint
                )
            await unit.commit()
        return count

    async def purge(self, before: float, limit: int) -> int:
        async with self._unit() as unit:  # deliveries and attempts go by ON DELETE CASCADE
            count = await unit.rowcount(self._sql["purge"], before=before, limit=limit)
            await unit.commit()
        return count

    async def _reports(self, unit: _Unit, rows: list[Row]) -> list[EventReport]:
        reports = []
        for row in rows:
            deliveries = []
            for number, endpoint, state, next_at in await unit.all(
                self._sql["deliveries_of"], seq=row[0]
            ):
                tried = await unit.all(self._sql["attempts_of"], delivery_id=number)
                deliveries.append(
                    DeliveryReport(
                        endpoint,
                        State(state),
                        tuple(AttemptRecord(*attempt) for attempt in tried),
                        next_at if state == PENDING else None,
                    )
                )
            reports.append(EventReport(_event(row[1:]), tuple(deliveries)))
        return reports

    async def events(self, kind: str | None, since: float | None, limit: int) -> list[EventReport]:
        values: dict[str, Any] = {"since": since if since is not None else 0.0, "limit": limit}
        async with self._unit(read_only=True) as unit:
            if kind is None:
                rows = await unit.all(self._sql["events_all"], **values)
            else:
                rows = await unit.all(self._sql["events_of_type"], type=kind, **values)
            return await self._reports(unit, rows)

    async def event(self, event_id: str) -> EventReport | None:
        async with self._unit(read_only=True) as unit:
            row = await unit.one(self._sql["event"], id=event_id)
            return None if row is None else (await self._reports(unit, [row]))[0]

    async def dead(self, limit: int) -> list[EventReport]:
        async with self._unit(read_only=True) as unit:
            return await self._reports(unit, await unit.all(self._sql["dead_events"], limit=limit))

    async def figures(self, now: float) -> DeliveryFigures:
        async with self._unit(read_only=True) as unit:
            pending = await unit.all(self._sql["oldest_pending"])
            unfanned = await unit.one(self._sql["oldest_unfanned"])
            dead = await unit.all(self._sql["dead_counts"])
        return DeliveryFigures(
            {row[0]: row[1] for row in pending},
            None if unfanned is None else unfanned[0],
            {row[0]: row[1] for row in dead},
        )
