"""Referral integrity (docs/rules.md): a held referral's status and signals,
and the device key of each login, compared for ``same_device``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from referrals.adapters.sql.migrations import namespace

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    here = namespace()
    # Nullable without default, or a constant default: instant on PostgreSQL.
    users = here.table("users")
    op.add_column(users, sa.Column("referral_status", sa.String(16)), schema=here.schema)
    op.add_column(users, sa.Column("referral_signals", sa.String(64)), schema=here.schema)
    op.add_column(
        here.table("login_history"),
        sa.Column("device", sa.String(32), nullable=False, server_default=""),
        schema=here.schema,
    )


def downgrade() -> None:
    here = namespace()
    with op.batch_alter_table(here.table("login_history"), schema=here.schema) as batch:
        batch.drop_column("device")
    with op.batch_alter_table(here.table("users"), schema=here.schema) as batch:
        batch.drop_column("referral_signals")
        batch.drop_column("referral_status")
