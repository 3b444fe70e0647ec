"""Behind PgBouncer in transaction mode: migrations and serving's start-up.

The unit-of-work contract (tests/contract) and the concurrency races
(test_concurrency.py) run through PgBouncer too; this is what is left:
``referrals migrate`` and the schema check of ``referrals serve``.
"""

from __future__ import annotations

import pytest

from referrals.adapters.sql import open_database
from referrals.adapters.sql.database import prepare_database, run_migrations
from referrals.adapters.sql.schema import HEAD, SchemaOutdated
from tests.defaults import DATABASE, TIMEOUT
from tests.namespaces import NAMESPACE
from tests.pgbouncer import pgbouncer

pytestmark = [pytest.mark.postgres, pytest.mark.pgbouncer]


async def test_a_database_is_migrated_and_checked_through_pgbouncer(
    empty_postgres_url: str,
) -> None:
    with pgbouncer(empty_postgres_url) as url:
        with pytest.raises(SchemaOutdated):
            await prepare_database(url, NAMESPACE, timeout=TIMEOUT, prepared_statements=False)
        await run_migrations(url, NAMESPACE, prepared_statements=False)
        await run_migrations(url, NAMESPACE, prepared_statements=False)  # idempotent
        await prepare_database(url, NAMESPACE, timeout=TIMEOUT, prepared_statements=False)
        database = open_database(
            url, namespace=NAMESPACE, **(DATABASE | {"prepared_statements": False})
        )
        await database.open()
        try:
            assert await database.revision() == HEAD
            await database.ping()
        finally:
            await database.close()
