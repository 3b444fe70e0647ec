"""The schema, as SQLAlchemy Core tables (the migrations are the source of truth).

Nothing here is built at import: :func:`tables_for` defines every table for
one :class:`~referrals.adapters.sql.namespace.Namespace`, so each name
carries its prefix and schema (a test checks every table does). A new table
is one more attribute of :class:`Tables`, named with :meth:`Tables.name`.
"""

from __future__ import annotations

import functools

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

from referrals.adapters.sql.namespace import Namespace

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names follow the (prefixed) table name, so they cannot clash with a host's."""

# SQLite only auto-increments an INTEGER PRIMARY KEY, so BIGINT is PostgreSQL's.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Tables:
    """Every table of ours in one namespace, on one :class:`MetaData`."""

    def __init__(self, namespace: Namespace) -> None:
        self.namespace = namespace
        self.metadata = MetaData(schema=namespace.schema, naming_convention=NAMING_CONVENTION)
        self.users = self._users()
        self.outbox = self._outbox()
        self.login_history = self._login_history()
        self.webhook_deliveries = self._webhook_deliveries()
        self.webhook_attempts = self._webhook_attempts()
        self.webhook_endpoints = self._webhook_endpoints()

    def name(self, table: str) -> str:
        """``users`` -> ``referrals_users``: the name of each table of ours."""
        return self.namespace.table(table)

    def _users(self) -> Table:
        users = self.name("users")
        return Table(
            users,
            self.metadata,
            Column("id", Id, primary_key=True, autoincrement=True),
            Column("phone", String(16), nullable=False, unique=True),
            Column("invite_code", String(6), nullable=False, unique=True),
            Column("referrer_id", Id, ForeignKey(f"{users}.id", ondelete="RESTRICT")),
            Column("used_invite_code", String(6), nullable=True),
            Column("referral_rank", Integer, nullable=True),
            Column("referred_count", Integer, nullable=False, server_default="0"),
            Column(
                "created_at", DateTime(timezone=True), nullable=False, server_default=func.now()
            ),
            Column("referred_at", DateTime(timezone=True), nullable=True),
            # The login that created the user (its login tag): tells is_new_user apart.
            Column("created_by", String(32), nullable=True),
            # A held referral (docs/rules.md, "Referral integrity"): pending_review,
            # ranked -id (below every page) until approved; its signals, commas between.
            Column("referral_status", String(16), nullable=True),
            Column("referral_signals", String(64), nullable=True),
            # When the number's re-registration cooldown ends (docs/account.md), as
            # verify or a phone change learned it; seconds since the epoch.
            Column("cooldown_until", Double, nullable=True),
            CheckConstraint("referrer_id <> id", name="not_own_referrer"),
            CheckConstraint(
                "(referrer_id IS NULL) = (referral_rank IS NULL)"
                " AND (referrer_id IS NULL) = (used_invite_code IS NULL)",
                name="referral_complete",
            ),
            CheckConstraint("referred_count >= 0", name="referred_count_positive"),
            # One page of someone's referrals is an index range scan: same cost at any depth.
            Index(
                f"ix_{users}_referrer_id_referral_rank", "referrer_id", "referral_rank", unique=True
            ),
        )

    # --- events leaving the process (docs/events.md) ---
    # Times are seconds since the epoch (the service's clock, as the relay's
    # backoff is computed), so both dialects compare them alike.

    def _outbox(self) -> Table:
        outbox = self.name("outbox")
        return Table(
            outbox,
            self.metadata,
            Column("seq", Id, primary_key=True, autoincrement=True),
            Column("id", String(36), nullable=False, unique=True),  # UUIDv7: the webhook-id
            Column("type", String(40), nullable=False),
            Column("occurred_at", Double, nullable=False),
            Column("user_id", Id, nullable=True),  # no foreign key: events outlive their user
            Column("data", Text, nullable=False),  # JSON
            # Fanned out into webhook_deliveries by the relay.
            Column("dispatched", Boolean, nullable=False, server_default=false()),
            Index(
                f"ix_{outbox}_undispatched",
                "seq",
                postgresql_where=text("NOT dispatched"),
                sqlite_where=text("dispatched = 0"),
            ),
            Index(f"ix_{outbox}_occurred_at", "occurred_at"),
        )

    def _login_history(self) -> Table:
        logins = self.name("login_history")
        return Table(
            logins,
            self.metadata,
            Column("id", Id, primary_key=True, autoincrement=True),
            Column("user_id", Id, nullable=False),  # no phone: see docs/account.md
            Column("logged_in_at", Double, nullable=False),
            Column("network", String(64), nullable=False, server_default=""),
            Column("user_agent", String(256), nullable=False, server_default=""),
            Column("device", String(32), nullable=False, server_default=""),  # a keyed hash
            Index(f"ix_{logins}_user_id", "user_id", "logged_in_at"),
            Index(f"ix_{logins}_logged_in_at", "logged_in_at"),
        )

    def _webhook_deliveries(self) -> Table:
        deliveries = self.name("webhook_deliveries")
        pending = text("state = 'pending'")
        return Table(
            deliveries,
            self.metadata,
            Column("id", Id, primary_key=True, autoincrement=True),
            Column(
                "event_seq",
                Id,
                ForeignKey(self.outbox.c.seq, ondelete="CASCADE"),
                nullable=False,
            ),
            Column("endpoint", String(64), nullable=False),
            Column("user_id", Id, nullable=True),  # the event's: a user's events go in order
            Column("state", String(10), nullable=False),  # pending, delivered, dead
            Column("attempts", Integer, nullable=False, server_default="0"),
            Column("next_at", Double, nullable=False),  # due, or leased until
            Column("since", Double, nullable=False),  # pending since: the retry window starts
            Column("done_at", Double, nullable=True),
            UniqueConstraint("event_seq", "endpoint", name=f"uq_{deliveries}_event_endpoint"),
            CheckConstraint("state IN ('pending', 'delivered', 'dead')", name="known_state"),
            Index(
                f"ix_{deliveries}_due",
                "endpoint",
                "next_at",
                postgresql_where=pending,
                sqlite_where=pending,
            ),
            Index(
                f"ix_{deliveries}_user",
                "endpoint",
                "user_id",
                "event_seq",
                postgresql_where=pending,
                sqlite_where=pending,
            ),
        )

    def _webhook_attempts(self) -> Table:
        return Table(
            self.name("webhook_attempts"),
            self.metadata,
            Column("id", Id, primary_key=True, autoincrement=True),
            Column(
                "delivery_id",
                Id,
                ForeignKey(self.webhook_deliveries.c.id, ondelete="CASCADE"),
                nullable=False,
                index=True,
            ),
            Column("at", Double, nullable=False),
            Column("status", Integer, nullable=True),  # the HTTP status; none: no answer
            Column("seconds", Double, nullable=False),
            Column("error", String(200), nullable=True),
        )

    def _webhook_endpoints(self) -> Table:
        return Table(
            self.name("webhook_endpoints"),
            self.metadata,
            Column("name", String(64), primary_key=True),
            Column("paused", Boolean, nullable=False),
        )


@functools.cache
def tables_for(namespace: Namespace) -> Tables:
    """The tables of ``namespace`` (built once per namespace)."""
    return Tables(namespace)
