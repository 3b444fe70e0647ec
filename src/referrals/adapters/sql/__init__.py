"""Users in a SQL database: PostgreSQL (psycopg and its pool) and SQLite (sqlite3).

SQLAlchemy Core is the schema, migration and statement layer; the
statements are compiled once and the drivers run them directly. The
dialect shows only where it must (upserts, row locks, how a transaction
begins). ``import referrals`` does not import this package, so library
users who bring their own adapters need no driver. :class:`SharedTransaction`
(units of work in a host's own SQLAlchemy transaction) loads SQLAlchemy
when first named.
"""

from typing import TYPE_CHECKING, Any

from referrals.adapters.sql.database import Database, open_database
from referrals.adapters.sql.namespace import Namespace
from referrals.adapters.sql.uow import sql_unit_of_work

if TYPE_CHECKING:
    from referrals.adapters.sql.shared import SharedTransaction

__all__ = ["Database", "Namespace", "SharedTransaction", "open_database", "sql_unit_of_work"]


def __getattr__(name: str) -> Any:
    if name == "SharedTransaction":
        from referrals.adapters.sql.shared import SharedTransaction

        return SharedTransaction
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
