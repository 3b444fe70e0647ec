"""The host's orders, which refer to its users.

Revision ID: host_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "host_0002"
down_revision = "host_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("referrals_user_id", sa.Integer, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("orders")
