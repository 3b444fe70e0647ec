"""``created_by`` now lasts until the user's first successful login, which
clears it: is_new_user is true for that login, whichever login created the
row. Every user already here has logged in (or the login that created them
failed and nobody can tell): none is new any more.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

from referrals.adapters.sql.migrations import namespace

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    users = namespace().qualified("users")
    op.execute(f"UPDATE {users} SET created_by = NULL WHERE created_by IS NOT NULL")  # noqa: S608


def downgrade() -> None:
    pass  # the tags cleared are not needed by 0002's code
