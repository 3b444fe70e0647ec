"""The re-registration cooldown on the user's row (docs/account.md): verify
writes when the number's cooldown ends as it creates the user, so applying
an invite code reads it with the user instead of asking Redis. Users who
have not applied a code yet are marked unknown: theirs is asked of Redis.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from referrals.adapters.sql.migrations import namespace

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    here = namespace()
    # Nullable without default: instant on PostgreSQL.
    op.add_column(here.table("users"), sa.Column("cooldown_until", sa.Double()), schema=here.schema)
    # Who has not applied a code yet may be on a cooled-down number, which
    # only Redis knows: 0 (domain.user.COOLDOWN_UNKNOWN) sends their
    # application there.
    users = here.qualified("users")
    op.execute(f"UPDATE {users} SET cooldown_until = 0 WHERE referrer_id IS NULL")  # noqa: S608


def downgrade() -> None:
    here = namespace()
    with op.batch_alter_table(here.table("users"), schema=here.schema) as batch:
        batch.drop_column("cooldown_until")
