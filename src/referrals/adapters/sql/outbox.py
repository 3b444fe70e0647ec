"""The outbox port on SQL: events held by the unit of work, written with its commit.

:class:`SqlOutbox` keeps what :meth:`add` is given; the unit of work writes
it just before COMMIT. On PostgreSQL the inserts and the COMMIT go out in
one pipeline, so an event costs no round trip of its own (see
``postgres.py``); on SQLite they run in the unit's transaction as usual.
"""

from __future__ import annotations

import functools
import json
from typing import Any, NamedTuple

from sqlalchemy import Insert, bindparam, insert

from referrals.adapters.sql.compiled import Compiled, compile_statement
from referrals.adapters.sql.namespace import Namespace
from referrals.adapters.sql.statements import dialect_named
from referrals.adapters.sql.tables import tables_for
from referrals.application.outbox import OutboxEvent
from referrals.domain.logins import LoginRecord


def add_event_clause(namespace: Namespace) -> Insert:
    """The INSERT of one event into ``namespace``'s outbox, bound by :func:`event_values`."""
    return insert(tables_for(namespace).outbox).values(
        id=bindparam("id"),
        type=bindparam("type"),
        occurred_at=bindparam("at"),
        user_id=bindparam("user_id"),
        data=bindparam("data"),
    )


@functools.cache
def add_event_statement(dialect: str, namespace: Namespace) -> Compiled:
    """:func:`add_event_clause` compiled for ``dialect`` once."""
    return compile_statement(add_event_clause(namespace), dialect_named(dialect))


def event_values(event: OutboxEvent) -> dict[str, Any]:
    """The bind values of :func:`add_event_statement` for ``event``."""
    return {
        "id": event.id,
        "type": event.type,
        "at": event.at,
        "user_id": event.user_id,
        "data": json.dumps(event.data, separators=(",", ":"), ensure_ascii=False),
    }


def add_login_clause(namespace: Namespace) -> Insert:
    """The INSERT of one login into ``namespace``'s login history, bound by :func:`login_values`."""
    return insert(tables_for(namespace).login_history).values(
        user_id=bindparam("user_id"),
        logged_in_at=bindparam("at"),
        network=bindparam("network"),
        user_agent=bindparam("user_agent"),
        device=bindparam("device"),
    )


@functools.cache
def add_login_statement(dialect: str, namespace: Namespace) -> Compiled:
    """:func:`add_login_clause` compiled for ``dialect`` once."""
    return compile_statement(add_login_clause(namespace), dialect_named(dialect))


def login_values(login: LoginRecord) -> dict[str, Any]:
    """The bind values of :func:`add_login_statement` for ``login``."""
    return {
        "user_id": login.user_id,
        "at": login.at,
        "network": login.network,
        "user_agent": login.user_agent,
        "device": login.device,
    }


class Welcome(NamedTuple):
    """A welcome held for the commit (see ``Outbox.welcome``)."""

    user_id: int
    created: OutboxEvent | None


def welcome_values(welcome: Welcome) -> dict[str, Any]:
    """The bind values of ``welcome_created`` (or of ``welcome_user``, which
    takes the user's id alone)."""
    if welcome.created is None:
        return {"user_id": welcome.user_id}
    return event_values(welcome.created) | {"user_id": welcome.user_id}


class SqlOutbox:
    """An :class:`~referrals.application.ports.Outbox` whose events wait for the commit."""

    def __init__(self) -> None:
        self._held: list[OutboxEvent] = []
        self._logins: list[LoginRecord] = []
        self._welcomes: list[Welcome] = []

    def welcome(self, user_id: int, created: OutboxEvent | None) -> None:
        self._welcomes.append(Welcome(user_id, created))

    def take_welcomes(self) -> list[Welcome]:
        """The welcomes held since the last take (written before the events)."""
        held, self._welcomes = self._welcomes, []
        return held

    def add(self, event: OutboxEvent) -> None:
        self._held.append(event)

    def record_login(self, login: LoginRecord) -> None:
        self._logins.append(login)

    def take_logins(self) -> list[LoginRecord]:
        """The logins recorded since the last take (written with the events)."""
        held, self._logins = self._logins, []
        return held

    def take(self) -> list[OutboxEvent]:
        """The events added since the last take (the unit writes them now)."""
        held, self._held = self._held, []
        return held
