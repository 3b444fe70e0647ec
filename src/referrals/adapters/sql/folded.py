"""Statements that do several steps of a request in one, on PostgreSQL.

A CTE there may write (``INSERT``/``UPDATE … RETURNING``) and lock, so a
verify's read-or-insert and its welcome are one statement each, one round
trip (docs/performance.md); an application of an invite code is too
(``apply_statement.py``). They are
compiled for SQLite too, with every other statement, but SQLite's
repository runs their steps one by one instead (no round trips to save).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Integer,
    Update,
    bindparam,
    exists,
    insert,
    select,
)
from sqlalchemy.sql import ClauseElement

from referrals.adapters.sql.statements import INSERTS, UserRow
from referrals.adapters.sql.tables import Tables


def user_columns(table: Any) -> tuple[Any, ...]:
    """``table``'s (or an alias's) columns of :class:`UserRow`, in order."""
    return tuple(table.c[name] for name in UserRow._fields)


def get_or_add(tables: Tables, dialect_name: str) -> ClauseElement:
    """The user of a phone, inserted first when there is none, with the first
    page of their referrals: one statement on PostgreSQL, where a CTE may
    write (SQLite's repository runs its steps one by one instead).

    The INSERT runs only when the read found nobody, so a returning user
    costs no insert attempt (nor a sequence number); when a concurrent unit
    inserted the phone after this statement's snapshot, or the invite code
    is taken, ``ON CONFLICT DO NOTHING`` skips it and no row comes back.
    A new user keeps the number's cooldown end (``cooldown_until``, verify's).
    """
    c = tables.users.c
    columns = tuple(c[name] for name in UserRow._fields)
    found = select(*columns).where(c.phone == bindparam("phone", type_=c.phone.type)).cte("found")
    source = select(
        bindparam("phone", type_=c.phone.type),
        bindparam("code", type_=c.invite_code.type),
        bindparam("created_by", type_=c.created_by.type),
        bindparam("cooldown_until", type_=c.cooldown_until.type),
    ).where(~exists(select(found.c.id)))
    added = (
        INSERTS[dialect_name](tables.users)
        .from_select(["phone", "invite_code", "created_by", "cooldown_until"], source)
        .on_conflict_do_nothing()
        .returning(*columns)
        .cte("added")
    )
    user = select(*found.c).union_all(select(*added.c)).cte("who")
    page = (  # a new user has no referrals: the page is the found user's
        select(c.referrer_id, c.referral_rank, c.phone)
        .where(
            c.referrer_id == select(found.c.id).scalar_subquery(),
            c.referral_rank > bindparam("after"),
        )
        .order_by(c.referral_rank)
        .limit(bindparam("limit", type_=Integer))
        .subquery("page")
    )
    return (
        select(*user.c, page.c.referral_rank, page.c.phone.label("referral_phone"))
        .select_from(user.outerjoin(page, page.c.referrer_id == user.c.id))
        .order_by(page.c.referral_rank)
    )


def welcome_created(tables: Tables, welcome: Update) -> ClauseElement:
    """The welcome (``created_by`` cleared) and the user's ``user.created`` row,
    written only when this statement is the one that cleared it (PostgreSQL:
    a CTE; SQLite runs the two in turn). Bound as the outbox's INSERT is."""
    o = tables.outbox.c
    cleared = welcome.returning(tables.users.c.id).cte("cleared")
    row = select(
        bindparam("id", type_=o.id.type),
        bindparam("type", type_=o.type.type),
        bindparam("at", type_=o.occurred_at.type),
        cleared.c.id,
        bindparam("data", type_=o.data.type),
    )
    return insert(tables.outbox).from_select(["id", "type", "occurred_at", "user_id", "data"], row)
