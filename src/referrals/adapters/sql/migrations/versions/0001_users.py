"""Users with their invite codes and referral links.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from referrals.adapters.sql.migrations import namespace

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    here = namespace()
    users = here.table("users")
    op.create_table(
        users,
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
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{users}")),
        sa.UniqueConstraint("phone", name=op.f(f"uq_{users}_phone")),
        sa.UniqueConstraint("invite_code", name=op.f(f"uq_{users}_invite_code")),
        sa.ForeignKeyConstraint(
            ["referrer_id"],
            [f"{users}.id" if here.schema is None else f"{here.schema}.{users}.id"],
            name=op.f(f"fk_{users}_referrer_id_{users}"),
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint("referrer_id <> id", name=op.f(f"ck_{users}_not_own_referrer")),
        sa.CheckConstraint(
            "(referrer_id IS NULL) = (referral_rank IS NULL)"
            " AND (referrer_id IS NULL) = (used_invite_code IS NULL)",
            name=op.f(f"ck_{users}_referral_complete"),
        ),
        sa.CheckConstraint("referred_count >= 0", name=op.f(f"ck_{users}_referred_count_positive")),
        schema=here.schema,
    )
    op.create_index(
        op.f(f"ix_{users}_referrer_id_referral_rank"),
        users,
        ["referrer_id", "referral_rank"],
        unique=True,
        schema=here.schema,
    )


def downgrade() -> None:
    here = namespace()
    users = here.table("users")
    op.drop_index(f"ix_{users}_referrer_id_referral_rank", table_name=users, schema=here.schema)
    op.drop_table(users, schema=here.schema)
