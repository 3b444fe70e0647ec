"""Statements that do several steps of a request in one, on PostgreSQL.

A CTE there may write (``INSERT``/``UPDATE … RETURNING``) and lock, so a
verify's read-or-insert, its welcome, and an application of an invite code
are one statement each, one round trip (docs/performance.md). They are
compiled for SQLite too, with every other statement, but SQLite's
repository runs their steps one by one instead (no round trips to save).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    Update,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.sql import ClauseElement

from referrals.adapters.sql.statements import INSERTS, UserRow
from referrals.adapters.sql.tables import Tables
from referrals.domain.errors import (
    OwnReferralCode,
    ReferralAlreadyApplied,
    ReferralCodeNotFound,
    ReferralCycle,
    SuspectedSelfReferral,
)
from referrals.domain.user import ERASED_MARK

APPLIED = "applied"
"""``apply_code``'s status when it wrote the referral."""


def _user_columns(table: Any) -> tuple[Any, ...]:
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
    """
    c = tables.users.c
    columns = tuple(c[name] for name in UserRow._fields)
    found = select(*columns).where(c.phone == bindparam("phone", type_=c.phone.type)).cte("found")
    source = select(
        bindparam("phone", type_=c.phone.type),
        bindparam("code", type_=c.invite_code.type),
        bindparam("created_by", type_=c.created_by.type),
    ).where(~exists(select(found.c.id)))
    added = (
        INSERTS[dialect_name](tables.users)
        .from_select(["phone", "invite_code", "created_by"], source)
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


def apply_code(tables: Tables) -> ClauseElement:
    """Apply an invite code in one statement (PostgreSQL; SQLite's repository
    runs the steps one by one): the same rules in the same order as
    :func:`~referrals.domain.user.ensure_can_apply`, then the policy's
    ``refuse``, answered as ``status`` (a refusal's code, ``applied``,
    ``no_user``, or ``moved``: the chain grew since the statement's
    snapshot, run it again); ``held`` writes it ``pending_review``, ranked
    ``-id`` and not counted, as ``set_referrer`` does; the user as they
    were and as they are (``linked``), the code's owner, and the first page
    of the user's referrals. The locks are the step-by-step ones
    (``repository.py``): the user ``FOR UPDATE`` (whose answer is its
    latest version), the chain's root ``FOR KEY SHARE NOWAIT``.
    """
    users = tables.users
    c = users.c
    user_id = bindparam("user_id", type_=c.id.type)
    held, refuse = bindparam("held", type_=Boolean), bindparam("refuse", type_=Boolean)
    me = select(*_user_columns(users)).where(c.id == user_id).with_for_update().cte("me")
    o = users.alias("o")
    owner = (
        select(*_user_columns(o))
        .where(o.c.invite_code == bindparam("code"), ~o.c.phone.startswith(ERASED_MARK))
        .cte("owner")
    )
    owner_id = select(owner.c.id).scalar_subquery()
    chain = select(c.id, c.referrer_id).where(c.id == owner_id).cte("chain", recursive=True)
    up = users.alias("up")
    chain = chain.union(
        select(up.c.id, up.c.referrer_id).join(chain, up.c.id == chain.c.referrer_id)
    )
    root = (
        select(c.referrer_id)
        .where(c.id.in_(select(chain.c.id).where(chain.c.referrer_id.is_(None))))
        .with_for_update(key_share=True, read=True, nowait=True)
        .cte("root")
    )
    status = case(
        (~exists(select(me.c.id)), literal("no_user")),
        (
            select(me.c.referrer_id).scalar_subquery().is_not(None),
            literal(ReferralAlreadyApplied.code),
        ),
        (~exists(select(owner.c.id)), literal(ReferralCodeNotFound.code)),
        (owner_id == user_id, literal(OwnReferralCode.code)),
        (exists(select(chain.c.id).where(chain.c.id == user_id)), literal(ReferralCycle.code)),
        (
            exists(select(root.c.referrer_id).where(root.c.referrer_id.is_not(None))),
            literal("moved"),
        ),
        (refuse, literal(SuspectedSelfReferral.code)),  # the policy's, once the rules passed
        else_=literal(APPLIED),
    )
    verdict = select(status.label("status")).cte("verdict")
    passed = select(verdict.c.status).scalar_subquery() == APPLIED
    counted = (  # a held referral is not counted (nor ranked) until approved
        update(users)
        .where(c.id == owner_id, passed, ~held)
        .values(referred_count=c.referred_count + 1)
        .returning(c.referred_count)
        .cte("counted")
    )
    linked = (
        update(users)
        .where(c.id == user_id, c.referrer_id.is_(None), passed)
        .values(
            referrer_id=owner_id,
            used_invite_code=select(owner.c.invite_code).scalar_subquery(),
            referral_rank=case(
                (held, -user_id), else_=select(counted.c.referred_count).scalar_subquery()
            ),
            referred_at=func.now(),
            referral_status=bindparam("status", type_=c.referral_status.type),
            referral_signals=bindparam("signals", type_=c.referral_signals.type),
        )
        .returning(*_user_columns(users))
        .cte("linked")
    )
    page = (
        select(c.referral_rank, c.phone)
        .where(c.referrer_id == user_id, c.referral_rank > 0)
        .order_by(c.referral_rank)
        .limit(bindparam("limit", type_=Integer))
        .subquery("page")
    )
    return (
        select(verdict.c.status, *owner.c, *me.c, *linked.c, page.c.referral_rank, page.c.phone)
        .select_from(
            verdict.outerjoin(owner, true())
            .outerjoin(me, true())
            .outerjoin(linked, true())
            .outerjoin(page, true())
        )
        .order_by(page.c.referral_rank)
    )
