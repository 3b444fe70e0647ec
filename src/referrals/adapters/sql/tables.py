"""The schema, as SQLAlchemy Core tables (the migrations are the source of truth)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY, so BIGINT is PostgreSQL's.
Id = BigInteger().with_variant(Integer(), "sqlite")

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("phone", String(16), nullable=False, unique=True),
    Column("invite_code", String(6), nullable=False, unique=True),
    Column("referrer_id", Id, ForeignKey("users.id", ondelete="RESTRICT"), nullable=True),
    Column("used_invite_code", String(6), nullable=True),
    Column("referral_rank", Integer, nullable=True),
    Column("referred_count", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("referred_at", DateTime(timezone=True), nullable=True),
    # The login that created the user (its login tag): tells is_new_user apart.
    Column("created_by", String(32), nullable=True),
    CheckConstraint("referrer_id <> id", name="not_own_referrer"),
    CheckConstraint(
        "(referrer_id IS NULL) = (referral_rank IS NULL)"
        " AND (referrer_id IS NULL) = (used_invite_code IS NULL)",
        name="referral_complete",
    ),
    CheckConstraint("referred_count >= 0", name="referred_count_positive"),
    # One page of someone's referrals is an index range scan: same cost at any depth.
    Index("ix_users_referrer_id_referral_rank", "referrer_id", "referral_rank", unique=True),
)

# --- events leaving the process (docs/events.md) ---
# Times are seconds since the epoch (the service's clock, as the relay's
# backoff is computed), so both dialects compare them alike.

outbox = Table(
    "outbox",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),  # UUIDv7: the webhook-id
    Column("type", String(40), nullable=False),
    Column("occurred_at", Double, nullable=False),
    Column("user_id", Id, nullable=True),  # no foreign key: events outlive their user
    Column("data", Text, nullable=False),  # JSON
    # Fanned out into webhook_deliveries by the relay.
    Column("dispatched", Boolean, nullable=False, server_default=false()),
    Index(
        "ix_outbox_undispatched",
        "seq",
        postgresql_where=text("NOT dispatched"),
        sqlite_where=text("dispatched = 0"),
    ),
    Index("ix_outbox_occurred_at", "occurred_at"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_seq", Id, ForeignKey("outbox.seq", ondelete="CASCADE"), nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("user_id", Id, nullable=True),  # the event's: a user's events go in order
    Column("state", String(10), nullable=False),  # pending, delivered, dead
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_at", Double, nullable=False),  # due, or leased until
    Column("since", Double, nullable=False),  # pending since: the retry window starts
    Column("done_at", Double, nullable=True),
    UniqueConstraint("event_seq", "endpoint", name="uq_webhook_deliveries_event_endpoint"),
    CheckConstraint("state IN ('pending', 'delivered', 'dead')", name="known_state"),
    Index(
        "ix_webhook_deliveries_due",
        "endpoint",
        "next_at",
        postgresql_where=text("state = 'pending'"),
        sqlite_where=text("state = 'pending'"),
    ),
    Index(
        "ix_webhook_deliveries_user",
        "endpoint",
        "user_id",
        "event_seq",
        postgresql_where=text("state = 'pending'"),
        sqlite_where=text("state = 'pending'"),
    ),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "delivery_id",
        Id,
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("at", Double, nullable=False),
    Column("status", Integer, nullable=True),  # the HTTP status; none: no answer
    Column("seconds", Double, nullable=False),
    Column("error", String(200), nullable=True),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("paused", Boolean, nullable=False),
)
