"""The host's users: a table named users, as nearly every host has.

Revision ID: host_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "host_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(120), nullable=False, unique=True),
    )


def downgrade() -> None:
    op.drop_table("users")
