"""Users in a SQL database through SQLAlchemy Core: SQLite and PostgreSQL.

One code path serves both; the dialect shows only where it must (upserts,
row locks, how a transaction begins). ``import referrals`` does not import
this package, so library users who bring their own adapters need no driver.
"""

from referrals.adapters.sql.database import Database
from referrals.adapters.sql.uow import SqlUnitOfWork, sql_unit_of_work

__all__ = ["Database", "SqlUnitOfWork", "sql_unit_of_work"]
