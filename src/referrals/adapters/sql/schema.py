"""Which migration the schema is at, read without Alembic (serving never imports it)."""

from __future__ import annotations

from referrals.adapters.sql.namespace import Namespace

HEAD = "0008"
"""The latest migration in ``migrations/versions`` (a test checks Alembic agrees)."""


def revision_query(namespace: Namespace) -> str:
    """The SQL that reads Alembic's record of our schema's migration."""
    return f"SELECT version_num FROM {namespace.qualified('alembic_version')}"  # noqa: S608


ADVISORY_LOCK = 7311227
"""PostgreSQL advisory lock id held while migrating."""


class SchemaOutdated(RuntimeError):
    """The database is not at the latest migration: run ``referrals migrate``."""


def ensure_current(revision: str | None) -> None:
    """Raise :class:`SchemaOutdated` unless ``revision`` is the latest migration."""
    if revision != HEAD:
        raise SchemaOutdated(
            f"the database schema is at {revision or 'nothing'}, not {HEAD}:"
            " run `referrals migrate`"
        )
