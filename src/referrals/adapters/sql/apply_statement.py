"""An application of an invite code as one PostgreSQL statement (see
``UserRepository.apply_code`` and docs/performance.md); SQLite's repository
runs its steps one by one instead (``application/applying.py``)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Double,
    Integer,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.selectable import CTE

from referrals.adapters.sql.folded import user_columns
from referrals.adapters.sql.statements import shared_logins_read
from referrals.adapters.sql.tables import Tables
from referrals.domain.errors import (
    OwnReferralCode,
    ReferralAlreadyApplied,
    ReferralCodeNotFound,
    ReferralCooldown,
    ReferralCycle,
    SuspectedSelfReferral,
)
from referrals.domain.integrity import (
    PENDING_REVIEW,
    SAME_DEVICE,
    SAME_NETWORK,
    SIGNALS,
    Action,
    strictness,
)
from referrals.domain.user import ERASED_MARK

APPLIED = "applied"
"""``apply_code``'s status when it wrote the referral."""


def _screen(tables: Tables) -> CTE:
    """The application's self-referral signals and their action, as
    ``Screening.decided`` takes it: each signal is ``known_{signal}`` (read
    before, ``code_burst``) or, for ``same_network`` and ``same_device``
    when ``read_logins``, what the login history says (``shared_logins``);
    ``strictness`` is the strictest ``rank_{signal}`` (the policy's action,
    as :func:`~referrals.domain.integrity.strictness` numbers them) of those
    that fired, ``signals`` their names in order, as the row keeps them."""
    shared = shared_logins_read(tables).subquery("shared")
    read = bindparam("read_logins", type_=Boolean)
    history = {SAME_NETWORK: shared.c.same_network, SAME_DEVICE: shared.c.same_device}
    fired = {}
    for signal in SIGNALS:
        known = bindparam(f"known_{signal}", type_=Boolean)
        fired[signal] = or_(known, and_(read, history[signal])) if signal in history else known
    ranks = [case((fired[s], bindparam(f"rank_{s}", type_=Integer)), else_=0) for s in SIGNALS]
    names = func.concat_ws(",", *(case((fired[s], literal(s))) for s in SIGNALS))
    return (
        select(
            func.greatest(literal(0), *ranks).label("strictness"),
            func.nullif(names, "").label("signals"),
            fired[SAME_NETWORK].label("same_network"),
            fired[SAME_DEVICE].label("same_device"),
        )
        .select_from(shared)
        .cte("screen")
    )


def apply_code(tables: Tables) -> ClauseElement:
    """Apply an invite code in one statement (PostgreSQL; SQLite's repository
    runs the steps one by one): the same rules in the same order as
    :func:`~referrals.domain.user.ensure_can_apply`, then the row's cooldown
    end against ``now`` (``NULL``: not checked), then the signals'
    action (:func:`_screen`), answered as ``status`` (a refusal's code, ``applied``,
    ``no_user``, or ``moved``: the chain grew since the statement's
    snapshot, run it again); ``hold`` writes it ``pending_review``, ranked
    ``-id`` and not counted, as ``set_referrer`` does; the user as they
    were and as they are (``linked``), the code's owner, the login
    history's signals, and the first page of the user's referrals. The
    locks are the step-by-step ones (``repository.py``): the user ``FOR
    UPDATE`` (whose answer is its latest version), the chain's root ``FOR
    KEY SHARE NOWAIT``.
    """
    users = tables.users
    c = users.c
    user_id = bindparam("user_id", type_=c.id.type)
    screen = _screen(tables)
    strictest = select(screen.c.strictness).scalar_subquery()
    held, refuse = strictest == strictness(Action.HOLD), strictest == strictness(Action.REFUSE)
    me = select(*user_columns(users)).where(c.id == user_id).with_for_update().cte("me")
    o = users.alias("o")
    owner = (
        select(*user_columns(o))
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
        (  # the number's cooldown (User.cooling_down), once the rules passed
            select(me.c.cooldown_until).scalar_subquery() > bindparam("now", type_=Double),
            literal(ReferralCooldown.code),
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
            referral_status=case((held, literal(PENDING_REVIEW))),
            referral_signals=select(screen.c.signals).scalar_subquery(),
        )
        .returning(*user_columns(users))
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
        select(
            verdict.c.status,
            *owner.c,
            *me.c,
            *linked.c,
            screen.c.same_network,
            screen.c.same_device,
            page.c.referral_rank,
            page.c.phone,
        )
        .select_from(
            verdict.join(screen, true())
            .outerjoin(owner, true())
            .outerjoin(me, true())
            .outerjoin(linked, true())
            .outerjoin(page, true())
        )
        .order_by(page.c.referral_rank)
    )
