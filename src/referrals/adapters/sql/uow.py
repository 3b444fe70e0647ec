"""The unit-of-work factory of a database (see ``postgres.py`` and ``sqlite.py``).

Every round trip on PostgreSQL (checking a connection out, each statement,
the commit, giving the connection back) runs under a client-side deadline,
so a server that accepts connections but never answers costs a request a
bounded time and a 503, not a hang, and its connections are dropped.
"""

from __future__ import annotations

from referrals.adapters.sql.database import Database
from referrals.application.ports import UnitOfWorkFactory


def sql_unit_of_work(database: Database) -> UnitOfWorkFactory:
    """The :class:`~referrals.application.ports.UnitOfWorkFactory` of ``database``."""
    return database.unit_of_work
