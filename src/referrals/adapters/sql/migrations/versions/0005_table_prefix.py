"""Our tables carry a prefix (``referrals_users``): databases made before it are renamed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import inspect

from referrals.adapters.sql.legacy import LEGACY_USERS, is_legacy_users
from referrals.adapters.sql.migrations import namespace

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CONSTRAINTS = (
    ("pk_{t}", ""),
    ("uq_{t}_phone", ""),
    ("uq_{t}_invite_code", ""),
    ("fk_{t}_referrer_id_{t}", ""),
    ("ck_users_ck_{t}_not_own_referrer", "ck_{t}_not_own_referrer"),
    ("ck_users_ck_{t}_referral_complete", "ck_{t}_referral_complete"),
    ("ck_users_ck_{t}_referred_count_positive", "ck_{t}_referred_count_positive"),
)
"""Constraints of a legacy ``users`` table: old name, new name (blank: the old
one with the new table name). 0001 doubled the check constraints' prefix."""
INDEX = "ix_{t}_referrer_id_referral_rank"


def upgrade() -> None:
    """Rename a legacy ``users`` table (ours, from before the prefix) when the
    prefixed one does not exist yet; a fresh database has nothing to rename."""
    here = namespace()
    connection = op.get_bind()
    users = here.table("users")
    if inspect(connection).has_table(users, schema=here.schema) or not is_legacy_users(
        connection, here.schema
    ):
        return
    if connection.dialect.name == "sqlite":  # SQLite rewrites the self-reference itself
        op.execute(f"ALTER TABLE {LEGACY_USERS} RENAME TO {users}")
        op.execute(f"DROP INDEX {INDEX.format(t=LEGACY_USERS)}")
        op.execute(
            f"CREATE UNIQUE INDEX {INDEX.format(t=users)} ON {users} (referrer_id, referral_rank)"
        )
        return
    qualified = here.qualified("users")
    schema = "" if here.schema is None else f'"{here.schema}".'
    op.execute(f"ALTER TABLE {schema}{LEGACY_USERS} RENAME TO {users}")
    op.execute(f"ALTER SEQUENCE IF EXISTS {schema}users_id_seq RENAME TO {users}_id_seq")
    op.execute(
        f"ALTER INDEX {schema}{INDEX.format(t=LEGACY_USERS)} RENAME TO {INDEX.format(t=users)}"
    )
    for old, new in CONSTRAINTS:
        before = old.format(t=LEGACY_USERS)
        after = (new or old).format(t=users)
        op.execute(f"ALTER TABLE {qualified} RENAME CONSTRAINT {before} TO {after}")


def downgrade() -> None:
    pass  # the prefix is a setting: set REFERRALS_DB_TABLE_PREFIX to keep other names
