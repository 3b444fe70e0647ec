"""Remember which login created each user, so is_new_user survives a retried login.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from referrals.adapters.sql.migrations import namespace

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    here = namespace()
    # Nullable, no default: instant on PostgreSQL whatever the table's size.
    op.add_column(
        here.table("users"),
        sa.Column("created_by", sa.String(32), nullable=True),
        schema=here.schema,
    )


def downgrade() -> None:
    here = namespace()
    with op.batch_alter_table(here.table("users"), schema=here.schema) as batch:
        batch.drop_column("created_by")
