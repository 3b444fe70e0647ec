"""The outbox of events and their webhook deliveries (docs/events.md).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from referrals.adapters.sql.migrations import namespace

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PENDING = sa.text("state = 'pending'")


def upgrade() -> None:
    here = namespace()
    schema = here.schema
    outbox, deliveries = here.table("outbox"), here.table("webhook_deliveries")
    attempts, endpoints = here.table("webhook_attempts"), here.table("webhook_endpoints")

    def referred(table: str, column: str) -> str:
        return f"{table}.{column}" if schema is None else f"{schema}.{table}.{column}"

    op.create_table(
        outbox,
        sa.Column("seq", Id, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.Double(), nullable=False),
        sa.Column("user_id", Id, nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("dispatched", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("seq", name=op.f(f"pk_{outbox}")),
        sa.UniqueConstraint("id", name=op.f(f"uq_{outbox}_id")),
        schema=schema,
    )
    op.create_index(
        f"ix_{outbox}_undispatched",
        outbox,
        ["seq"],
        postgresql_where=sa.text("NOT dispatched"),
        sqlite_where=sa.text("dispatched = 0"),
        schema=schema,
    )
    op.create_index(f"ix_{outbox}_occurred_at", outbox, ["occurred_at"], schema=schema)
    op.create_table(
        deliveries,
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("event_seq", Id, nullable=False),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("user_id", Id, nullable=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_at", sa.Double(), nullable=False),
        sa.Column("since", sa.Double(), nullable=False),
        sa.Column("done_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{deliveries}")),
        sa.ForeignKeyConstraint(
            ["event_seq"],
            [referred(outbox, "seq")],
            name=op.f(f"fk_{deliveries}_event_seq_{outbox}"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("event_seq", "endpoint", name=op.f(f"uq_{deliveries}_event_endpoint")),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'dead')", name=op.f(f"ck_{deliveries}_known_state")
        ),
        schema=schema,
    )
    op.create_index(
        f"ix_{deliveries}_due",
        deliveries,
        ["endpoint", "next_at"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
        schema=schema,
    )
    op.create_index(
        f"ix_{deliveries}_user",
        deliveries,
        ["endpoint", "user_id", "event_seq"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
        schema=schema,
    )
    op.create_table(
        attempts,
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", Id, nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("error", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{attempts}")),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            [referred(deliveries, "id")],
            name=op.f(f"fk_{attempts}_delivery_id_{deliveries}"),
            ondelete="CASCADE",
        ),
        schema=schema,
    )
    op.create_index(op.f(f"ix_{attempts}_delivery_id"), attempts, ["delivery_id"], schema=schema)
    op.create_table(
        endpoints,
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f(f"pk_{endpoints}")),
        schema=schema,
    )


def downgrade() -> None:
    here = namespace()
    for table in ("webhook_endpoints", "webhook_attempts", "webhook_deliveries", "outbox"):
        op.drop_table(here.table(table), schema=here.schema)
