"""Databases made before our tables had a prefix: ``users`` and ``alembic_version``.

Up to revision 0003 our history was kept in Alembic's default
``alembic_version`` and our table was plain ``users``. Before migrating,
:func:`adopt_legacy_version` moves our revision from there into our own
version table; revision 0004 then renames the table (and its constraints,
index and sequence). A host's own revisions and tables are left alone: a
revision counts as ours only beside a ``users`` table with our columns.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from referrals.adapters.sql.namespace import Namespace

LEGACY_VERSION_TABLE = "alembic_version"
LEGACY_USERS = "users"
LEGACY_REVISIONS = frozenset({"0001", "0002", "0003"})
"""Our revisions that were recorded in ``alembic_version``."""
OUR_COLUMNS = frozenset({"phone", "invite_code", "referrer_id", "referral_rank", "referred_count"})


def is_legacy_users(connection: Connection, schema: str | None) -> bool:
    """Whether ``users`` here is ours (from before the prefix), not a host's."""
    inspector = inspect(connection)
    if not inspector.has_table(LEGACY_USERS, schema=schema):
        return False
    columns = {column["name"] for column in inspector.get_columns(LEGACY_USERS, schema=schema)}
    return columns >= OUR_COLUMNS


def adopt_legacy_version(connection: Connection, namespace: Namespace) -> None:
    """Move our revision from ``alembic_version`` into ``namespace``'s version
    table, if it is there and ours has none yet (dropping ``alembic_version``
    once it is empty). Runs inside the migration's transaction."""
    inspector = inspect(connection)
    schema = namespace.schema
    if inspector.has_table(namespace.version_table, schema=schema) or not inspector.has_table(
        LEGACY_VERSION_TABLE, schema=schema
    ):
        return
    legacy = LEGACY_VERSION_TABLE if schema is None else f'"{schema}".{LEGACY_VERSION_TABLE}'
    rows = connection.execute(text(f"SELECT version_num FROM {legacy}")).scalars().all()  # noqa: S608
    ours = [revision for revision in rows if revision in LEGACY_REVISIONS]
    if len(ours) != 1 or not is_legacy_users(connection, schema):
        return
    version_table = namespace.qualified("alembic_version")
    connection.execute(
        text(
            f"CREATE TABLE {version_table} (version_num VARCHAR(32) NOT NULL,"
            f" CONSTRAINT {namespace.version_table}_pkc PRIMARY KEY (version_num))"
        )
    )
    connection.execute(
        text(f"INSERT INTO {version_table} (version_num) VALUES (:revision)"),  # noqa: S608
        {"revision": ours[0]},
    )
    connection.execute(
        text(f"DELETE FROM {legacy} WHERE version_num = :revision"),  # noqa: S608
        {"revision": ours[0]},
    )
    if len(rows) == 1:  # nobody else's revision was kept there
        connection.execute(text(f"DROP TABLE {legacy}"))
