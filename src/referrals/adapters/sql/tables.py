"""The schema, as SQLAlchemy Core tables (the migrations are the source of truth)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY, so BIGINT is PostgreSQL's.
Id = BigInteger().with_variant(Integer(), "sqlite")

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("phone", String(16), nullable=False, unique=True),
    Column("invite_code", String(6), nullable=False, unique=True),
    Column("referrer_id", Id, ForeignKey("users.id", ondelete="RESTRICT"), nullable=True),
    Column("used_invite_code", String(6), nullable=True),
    Column("referral_rank", Integer, nullable=True),
    Column("referred_count", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("referred_at", DateTime(timezone=True), nullable=True),
    # The login that created the user (its login tag): tells is_new_user apart.
    Column("created_by", String(32), nullable=True),
    CheckConstraint("referrer_id <> id", name="not_own_referrer"),
    CheckConstraint(
        "(referrer_id IS NULL) = (referral_rank IS NULL)"
        " AND (referrer_id IS NULL) = (used_invite_code IS NULL)",
        name="referral_complete",
    ),
    CheckConstraint("referred_count >= 0", name="referred_count_positive"),
    # One page of someone's referrals is an index range scan: same cost at any depth.
    Index("ix_users_referrer_id_referral_rank", "referrer_id", "referral_rank", unique=True),
)
