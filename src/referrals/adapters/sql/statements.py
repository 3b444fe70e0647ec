"""Every statement the repository runs, built once with bind parameters.

They are built here at import and compiled once per driver by
:func:`statements_for` into plain SQL the drivers run directly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, func, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from referrals.adapters.sql.compiled import Compiled, compile_statement
from referrals.adapters.sql.tables import users

USER_COLUMNS = (
    users.c.id,
    users.c.phone,
    users.c.invite_code,
    users.c.referrer_id,
    users.c.used_invite_code,
    users.c.referred_count,
    users.c.created_by,
)

USER_BY_ID = select(*USER_COLUMNS).where(users.c.id == bindparam("user_id"))
USER_BY_PHONE = select(*USER_COLUMNS).where(users.c.phone == bindparam("phone"))
USER_BY_CODE = select(*USER_COLUMNS).where(users.c.invite_code == bindparam("code"))
LOCK_USER = USER_BY_ID.with_for_update()  # SQLite ignores it: BEGIN IMMEDIATE serialises


def _add(insert: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the upsert is the dialect's own."""
    return (
        insert(users)
        .values(
            phone=bindparam("phone"),
            invite_code=bindparam("code"),
            created_by=bindparam("created_by"),
        )
        .on_conflict_do_nothing()
        .returning(*USER_COLUMNS)
    )


ADD_USER = {"postgresql": _add(postgresql.insert), "sqlite": _add(sqlite.insert)}

# The chain of referrers above a user; UNION (not ALL) ends even on a cycle.
_start = select(users.c.id, users.c.referrer_id).where(users.c.id == bindparam("user_id"))
_chain = _start.cte("chain", recursive=True)
_chain = _chain.union(
    select(users.c.id, users.c.referrer_id).join(_chain, users.c.id == _chain.c.referrer_id)
)
REFERRER_CHAIN = select(_chain.c.id, _chain.c.referrer_id)

LOCK_ROOT = (
    select(users.c.referrer_id)
    .where(users.c.id == bindparam("user_id"))
    .with_for_update(key_share=True, read=True, nowait=True)
)

WELCOME_USER = (
    update(users)
    .where(users.c.id == bindparam("user_id"), users.c.created_by.is_not(None))
    .values(created_by=null())
)

COUNT_REFERRAL = (
    update(users)
    .where(users.c.id == bindparam("owner_id"))
    .values(referred_count=users.c.referred_count + 1)
    .returning(users.c.referred_count)
)
LINK_REFERRER = (
    update(users)
    .where(users.c.id == bindparam("user_id"), users.c.referrer_id.is_(None))
    .values(
        referrer_id=bindparam("owner_id"),
        used_invite_code=bindparam("code"),
        referral_rank=bindparam("rank"),
        referred_at=func.now(),
    )
)

# A profile in one read: the user's row, joined to one page of the users who
# applied their code. The page is an index range scan on (referrer_id, rank).
REFERRALS_PAGE = (
    select(users.c.referrer_id, users.c.referral_rank, users.c.phone)
    .where(users.c.referrer_id == bindparam("user_id"), users.c.referral_rank > bindparam("after"))
    .order_by(users.c.referral_rank)
    .limit(bindparam("limit", type_=Integer))
)
"""One page alone: SQLite runs it and the user's row as two statements (no
round trips to save there, and its planner materialises and sorts the join)."""
_page = REFERRALS_PAGE.subquery("page")
PROFILE = (
    select(*USER_COLUMNS, _page.c.referral_rank, _page.c.phone.label("referral_phone"))
    .select_from(users.outerjoin(_page, _page.c.referrer_id == users.c.id))
    .where(users.c.id == bindparam("user_id"))
    .order_by(_page.c.referral_rank)
)

# For operators (``referrals users show``, ``referrals stats``): plain reads.
CHAIN_USERS = select(*USER_COLUMNS).join(_chain, users.c.id == _chain.c.id)

COUNT_USERS = select(
    func.count(),
    func.count().filter(users.c.created_at >= bindparam("since")),
    func.count(users.c.referrer_id),
    func.count().filter(users.c.referred_at >= bindparam("since")),
).select_from(users)
TOP_REFERRERS = (
    select(*USER_COLUMNS)
    .where(users.c.referred_count > 0)
    .order_by(users.c.referred_count.desc(), users.c.id)
    .limit(bindparam("top", type_=Integer))
)


@dataclass(frozen=True, slots=True)
class Statements:
    """Every statement above, compiled for one driver (see ``compiled.py``)."""

    user_by_id: Compiled
    user_by_phone: Compiled
    user_by_code: Compiled
    lock_user: Compiled
    add_user: Compiled
    welcome_user: Compiled
    referrer_chain: Compiled
    lock_root: Compiled
    count_referral: Compiled
    link_referrer: Compiled
    profile: Compiled
    referrals_page: Compiled
    chain_users: Compiled
    count_users: Compiled
    top_referrers: Compiled


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
def statements_for(dialect_name: str) -> Statements:
    """The statements compiled for ``postgresql`` (psycopg) or ``sqlite`` (sqlite3), once."""
    dialect = dialect_named(dialect_name)

    def build(statement: ClauseElement) -> Compiled:
        return compile_statement(statement, dialect)

    return Statements(
        user_by_id=build(USER_BY_ID),
        user_by_phone=build(USER_BY_PHONE),
        user_by_code=build(USER_BY_CODE),
        lock_user=build(LOCK_USER),
        add_user=build(ADD_USER[dialect_name]),
        welcome_user=build(WELCOME_USER),
        referrer_chain=build(REFERRER_CHAIN),
        lock_root=build(LOCK_ROOT),
        count_referral=build(COUNT_REFERRAL),
        link_referrer=build(LINK_REFERRER),
        profile=build(PROFILE),
        referrals_page=build(REFERRALS_PAGE),
        chain_users=build(CHAIN_USERS),
        count_users=build(COUNT_USERS),
        top_referrers=build(TOP_REFERRERS),
    )
