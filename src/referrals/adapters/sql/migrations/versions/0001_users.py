"""Users with their invite codes and referral links.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("invite_code", sa.String(6), nullable=False),
        sa.Column("referrer_id", Id, nullable=True),
        sa.Column("used_invite_code", sa.String(6), nullable=True),
        sa.Column("referral_rank", sa.Integer(), nullable=True),
        sa.Column("referred_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("phone", name="uq_users_phone"),
        sa.UniqueConstraint("invite_code", name="uq_users_invite_code"),
        sa.ForeignKeyConstraint(
            ["referrer_id"],
            ["users.id"],
            name="fk_users_referrer_id_users",
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint("referrer_id <> id", name="ck_users_not_own_referrer"),
        sa.CheckConstraint(
            "(referrer_id IS NULL) = (referral_rank IS NULL)"
            " AND (referrer_id IS NULL) = (used_invite_code IS NULL)",
            name="ck_users_referral_complete",
        ),
        sa.CheckConstraint("referred_count >= 0", name="ck_users_referred_count_positive"),
    )
    op.create_index(
        "ix_users_referrer_id_referral_rank",
        "users",
        ["referrer_id", "referral_rank"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_users_referrer_id_referral_rank", table_name="users")
    op.drop_table("users")
