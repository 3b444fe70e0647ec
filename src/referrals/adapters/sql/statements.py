"""Every statement the repository runs, written once with bind parameters.

:func:`statements_for` builds them on one namespace's tables (see
``tables.py``) and compiles them once per driver into plain SQL the drivers
run directly; nothing is built at import, so each carries its namespace's
table names and schema.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    bindparam,
    delete,
    exists,
    func,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Select
from sqlalchemy.sql.elements import BindParameter

from referrals.adapters.sql.compiled import Compiled, compile_statement
from referrals.adapters.sql.namespace import Namespace
from referrals.adapters.sql.tables import Tables, tables_for

INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
"""INSERT … ON CONFLICT DO NOTHING RETURNING: the upsert is each dialect's own."""


class UserRow(NamedTuple):
    """The columns every statement that answers users selects, in this order
    (read a row with ``UserRow._make(row)``)."""

    id: int
    phone: str
    invite_code: str
    referrer_id: int | None
    used_invite_code: str | None
    referred_count: int
    created_by: str | None
    referral_status: str | None
    referral_signals: str | None
    cooldown_until: float | None


@dataclass(frozen=True, slots=True)
class Statements:
    """Every statement below, compiled for one driver (see ``compiled.py``)."""

    user_by_id: Compiled
    user_by_phone: Compiled
    user_by_code: Compiled
    lock_user: Compiled
    add_user: Compiled
    get_or_add: Compiled
    welcome_user: Compiled
    welcome_created: Compiled
    apply_code: Compiled
    referrer_chain: Compiled
    lock_root: Compiled
    count_referral: Compiled
    link_referrer: Compiled
    profile: Compiled
    referrals_page: Compiled
    chain_users: Compiled
    count_users: Compiled
    top_referrers: Compiled
    set_phone: Compiled
    forget_events: Compiled
    forget_logins: Compiled
    recent_logins: Compiled
    purge_logins: Compiled
    shared_logins: Compiled
    held_referrals: Compiled
    approve_referral: Compiled
    void_referral: Compiled


def statement_clauses(tables: Tables, dialect_name: str) -> dict[str, ClauseElement]:
    """The statements on ``tables``, by the name of their :class:`Statements` field."""
    from referrals.adapters.sql.apply_statement import apply_code
    from referrals.adapters.sql.folded import get_or_add, welcome_created

    users = tables.users
    c = users.c
    columns = tuple(c[name] for name in UserRow._fields)
    by_id = select(*columns).where(c.id == bindparam("user_id"))

    # The chain of referrers above a user; UNION (not ALL) ends even on a cycle.
    chain = (
        select(c.id, c.referrer_id).where(c.id == bindparam("user_id")).cte("chain", recursive=True)
    )
    chain = chain.union(select(c.id, c.referrer_id).join(chain, c.id == chain.c.referrer_id))

    applied = c.referrer_id.is_not(None) & c.referral_status.is_(None)  # not held

    # One page of the users who applied someone's code: an index range scan on
    # (referrer_id, rank). SQLite runs it and the user's row as two statements
    # (no round trips to save there, and its planner materialises the join).
    page = (
        select(c.referrer_id, c.referral_rank, c.phone)
        .where(c.referrer_id == bindparam("user_id"), c.referral_rank > bindparam("after"))
        .order_by(c.referral_rank)
        .limit(bindparam("limit", type_=Integer))
    )
    joined = page.subquery("page")
    add_user = (
        INSERTS[dialect_name](users)
        .values(
            phone=bindparam("phone"),
            invite_code=bindparam("code"),
            created_by=bindparam("created_by"),
            cooldown_until=bindparam("cooldown_until", type_=c.cooldown_until.type),
        )
        .on_conflict_do_nothing()
    )
    welcome = (
        update(users)
        .where(c.id == bindparam("user_id"), c.created_by.is_not(None))
        .values(created_by=null())
    )
    h = tables.login_history
    doomed = (
        select(h.c.id)
        .where(h.c.logged_in_at < bindparam("before"))
        .order_by(h.c.logged_in_at)
        .limit(bindparam("limit", type_=Integer))
    )
    return {
        "user_by_id": by_id,
        "user_by_phone": select(*columns).where(c.phone == bindparam("phone")),
        "user_by_code": select(*columns).where(c.invite_code == bindparam("code")),
        "lock_user": by_id.with_for_update(),  # SQLite ignores it: BEGIN IMMEDIATE serialises
        "add_user": add_user.returning(*columns),
        "get_or_add": get_or_add(tables, dialect_name),
        "welcome_user": welcome,
        "welcome_created": welcome_created(tables, welcome),
        "apply_code": apply_code(tables),
        "referrer_chain": select(chain.c.id, chain.c.referrer_id),
        "lock_root": select(c.referrer_id)
        .where(c.id == bindparam("user_id"))
        .with_for_update(key_share=True, read=True, nowait=True),
        "count_referral": update(users)
        .where(c.id == bindparam("owner_id"))
        .values(referred_count=c.referred_count + 1)
        .returning(c.referred_count),
        "link_referrer": update(users)
        .where(c.id == bindparam("user_id"), c.referrer_id.is_(None))
        .values(
            referrer_id=bindparam("owner_id"),
            used_invite_code=bindparam("code"),
            referral_rank=bindparam("rank"),
            referred_at=func.now(),
            referral_status=bindparam("status"),
            referral_signals=bindparam("signals"),
        ),
        # A profile in one read: the user's row joined to one page of referrals.
        "profile": select(*columns, joined.c.referral_rank, joined.c.phone.label("referral_phone"))
        .select_from(users.outerjoin(joined, joined.c.referrer_id == c.id))
        .where(c.id == bindparam("user_id"))
        .order_by(joined.c.referral_rank),
        "referrals_page": page,
        # For operators (``referrals users show``, ``referrals stats``): plain reads.
        "chain_users": select(*columns).join(chain, c.id == chain.c.id),
        "count_users": select(
            func.count(),
            func.count().filter(c.created_at >= bindparam("since")),
            func.count().filter(applied),
            func.count().filter(applied, c.referred_at >= bindparam("since")),
        ).select_from(users),
        "top_referrers": select(*columns)
        .where(c.referred_count > 0)
        .order_by(c.referred_count.desc(), c.id)
        .limit(bindparam("top", type_=Integer)),
        # A new phone and its cooldown, or a deleted account's mark (docs/account.md);
        # the row stays.
        "set_phone": update(users)
        .where(c.id == bindparam("user_id"))
        .values(
            phone=bindparam("phone"),
            created_by=null(),
            cooldown_until=bindparam("cooldown_until", type_=c.cooldown_until.type),
        ),
        "forget_events": delete(tables.outbox).where(
            tables.outbox.c.user_id == bindparam("user_id")
        ),
        # The login history (docs/account.md): read for the export, purged in batches.
        "forget_logins": delete(h).where(h.c.user_id == bindparam("user_id")),
        "recent_logins": select(
            h.c.user_id, h.c.logged_in_at, h.c.network, h.c.user_agent, h.c.device
        )
        .where(h.c.user_id == bindparam("user_id"), h.c.logged_in_at >= bindparam("since"))
        .order_by(h.c.logged_in_at.desc(), h.c.id.desc())
        .limit(bindparam("limit", type_=Integer)),
        "purge_logins": delete(h).where(h.c.id.in_(doomed.scalar_subquery())),
        "shared_logins": shared_logins_read(tables),
        # Held referrals (docs/rules.md, "Referral integrity"), for the operator.
        "held_referrals": select(*columns)
        .where(c.referral_status.is_not(None), c.id > bindparam("after"))
        .order_by(c.id)
        .limit(bindparam("limit", type_=Integer)),
        "approve_referral": update(users)
        .where(c.id == bindparam("user_id"), c.referral_status.is_not(None))
        .values(referral_rank=bindparam("rank"), referral_status=null(), referred_at=func.now()),
        "void_referral": update(users)
        .where(c.id == bindparam("user_id"), c.referral_status.is_not(None))
        .values(
            referrer_id=null(),
            used_invite_code=null(),
            referral_rank=null(),
            referred_at=null(),
            referral_status=null(),
            referral_signals=null(),
        ),
    }


def shared_logins_read(tables: Tables) -> Select[bool, bool]:
    """Whether the owner of ``code`` logged in since ``since`` from this
    request's ``network``, and whether from this request's ``device`` or one
    ``user_id`` logged in with since then (empty: unknown, never shared).
    Two EXISTS on the login history's (user_id, logged_in_at) index."""
    users, h = tables.users, tables.login_history
    since: BindParameter[float] = bindparam("since")
    owner = select(users.c.id).where(users.c.invite_code == bindparam("code")).scalar_subquery()
    by_network, by_device, mine = h.alias("by_network"), h.alias("by_device"), h.alias("mine")
    network = exists().where(
        by_network.c.user_id == owner,
        by_network.c.logged_in_at >= since,
        by_network.c.network != "",
        by_network.c.network == bindparam("network"),
    )
    applier = select(mine.c.device).where(
        mine.c.user_id == bindparam("user_id"), mine.c.logged_in_at >= since
    )
    device = exists().where(
        by_device.c.user_id == owner,
        by_device.c.logged_in_at >= since,
        by_device.c.device != "",
        or_(by_device.c.device == bindparam("device"), by_device.c.device.in_(applier)),
    )
    return select(network.label("same_network"), device.label("same_device"))


def dialect_named(name: str) -> Dialect:
    """The SQLAlchemy dialect whose compiled SQL the driver of ``name`` runs."""
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

        return PGDialect_psycopg(paramstyle="format")  # type: ignore[no-untyped-call]  # %s
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

        return SQLiteDialect_pysqlite(paramstyle="qmark")
    raise ValueError(f"no statements for the {name!r} dialect")


@functools.cache
def statements_for(dialect_name: str, namespace: Namespace) -> Statements:
    """The statements on ``namespace``'s tables compiled for ``postgresql``
    (psycopg, ``%s``) or ``sqlite`` (sqlite3, ``?``), once each."""
    from referrals.adapters.sql.apply_statement import APPLIED

    dialect = dialect_named(dialect_name)
    built = statement_clauses(tables_for(namespace), dialect_name)
    compiled = {name: compile_statement(statement, dialect) for name, statement in built.items()}
    compiled["apply_code"] = dataclasses.replace(compiled["apply_code"], writes_when=APPLIED)
    return Statements(**compiled)
