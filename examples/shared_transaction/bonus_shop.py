"""A shop that pays bonuses for referrals in its own database, in one transaction.

The shop keeps its tables (its own ``users``, ``bonuses``) in the database
referrals uses (``referrals_users`` and the rest, see
docs/host-database.md). Granting a bonus and recording the referral that
earns it happen in one transaction of the shop's: both are committed, or
neither. ``Service.sharing`` runs the use cases' units of work inside the
transaction of the shop's SQLAlchemy connection.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from referrals import Profile, Service, Verified, VerifyCode
from referrals.adapters.sql import SharedTransaction

metadata = MetaData()
users = Table(  # the shop's own users: referrals' table is referrals_users
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(120), nullable=False),
)
bonuses = Table(
    "bonuses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("referrals_user_id", Integer, nullable=False),
    Column("points", Integer, nullable=False),
    Column("reason", String(20), nullable=False),
)

WELCOME_POINTS = 10
REFERRAL_POINTS = 50


class BudgetExhausted(Exception):
    """The referral campaign has paid out what it may."""


async def create_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)


async def paid_out(connection: AsyncConnection) -> int:
    total = await connection.scalar(select(func.coalesce(func.sum(bonuses.c.points), 0)))
    return int(total or 0)


async def sign_up(engine: AsyncEngine, service: Service, command: VerifyCode) -> Verified:
    """Verify a login; a new user gets welcome points in the same transaction."""
    async with engine.begin() as connection:
        verified = await service.sharing(SharedTransaction(connection)).verify(command)
        if verified.is_new_user:
            await connection.execute(
                insert(bonuses).values(
                    referrals_user_id=verified.profile.id, points=WELCOME_POINTS, reason="welcome"
                )
            )
        return verified


async def apply_friend_code(
    engine: AsyncEngine, service: Service, user_id: int, code: str, *, budget: int
) -> Profile:
    """Apply a friend's code and pay its bonus: both or neither.

    Raises the service's refusals (``ReferralCodeNotFound``…) and
    :class:`BudgetExhausted`; either way nothing of it is kept."""
    async with engine.begin() as connection:
        profile = await service.sharing(SharedTransaction(connection)).apply_referral(user_id, code)
        await connection.execute(
            insert(bonuses).values(
                referrals_user_id=user_id, points=REFERRAL_POINTS, reason="referral"
            )
        )
        if await paid_out(connection) > budget:
            raise BudgetExhausted()  # the shop's error: the referral goes too
        return profile
