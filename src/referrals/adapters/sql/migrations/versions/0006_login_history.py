"""The login history: one row per successful login, kept REFERRALS_HISTORY_KEEP.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from referrals.adapters.sql.migrations import namespace

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    here = namespace()
    schema = here.schema
    logins = here.table("login_history")
    op.create_table(
        logins,
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("logged_in_at", sa.Double(), nullable=False),
        sa.Column("network", sa.String(64), nullable=False, server_default=""),
        sa.Column("user_agent", sa.String(256), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{logins}")),
        schema=schema,
    )
    op.create_index(f"ix_{logins}_user_id", logins, ["user_id", "logged_in_at"], schema=schema)
    op.create_index(f"ix_{logins}_logged_in_at", logins, ["logged_in_at"], schema=schema)


def downgrade() -> None:
    here = namespace()
    op.drop_table(here.table("login_history"), schema=here.schema)
