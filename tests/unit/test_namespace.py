"""Our tables' prefix and schema: every table and statement carries them, and
bad ones are refused when the settings are made."""

from __future__ import annotations

import pytest

from referrals.adapters.sql import Namespace
from referrals.adapters.sql.statements import statements_for
from referrals.adapters.sql.tables import tables_for
from referrals.settings import Settings, SettingsError, load_settings

ACME = Namespace("acme_", "billing")


def test_every_table_carries_the_prefix_and_the_schema() -> None:
    tables = tables_for(ACME).metadata.tables.values()
    assert tables
    for table in tables:
        assert (table.name.startswith("acme_"), table.schema) == (True, "billing"), table.name
        for key in table.foreign_keys:
            assert key.column.table.name.startswith("acme_")


def test_every_statement_names_the_namespaces_tables_only() -> None:
    for dialect in ("postgresql", "sqlite"):
        statements = statements_for(dialect, Namespace("acme_", None))
        for field in statements.__slots__:
            sql = getattr(statements, field).sql
            ours = ("acme_users", "acme_outbox", "acme_login_history")
            assert any(table in sql for table in ours), field
            assert " users" not in sql.replace("acme_users", ""), (field, sql)
            assert " outbox" not in sql.replace("acme_outbox", ""), (field, sql)
            assert " login_history" not in sql.replace("acme_login_history", ""), (field, sql)


def test_the_schema_qualifies_every_statement() -> None:
    sql = statements_for("postgresql", ACME).user_by_id.sql
    assert "billing.acme_users" in sql


@pytest.mark.parametrize("prefix", ["", "Referrals_", "1x_", "a-b_", "x" * 17, "r; drop"])
def test_a_prefix_that_is_not_a_plain_identifier_is_refused(prefix: str) -> None:
    with pytest.raises(SettingsError, match="REFERRALS_DB_TABLE_PREFIX"):
        Settings(db_table_prefix=prefix)


def test_a_schema_on_sqlite_is_refused_with_its_reason() -> None:
    with pytest.raises(SettingsError, match="REFERRALS_DB_SCHEMA is for PostgreSQL"):
        load_settings({"REFERRALS_DB_SCHEMA": "referrals"})


def test_a_prefix_and_a_schema_are_read_from_the_environment() -> None:
    settings = load_settings(
        {
            "REFERRALS_DATABASE_URL": "postgresql://db/app",
            "REFERRALS_DB_TABLE_PREFIX": "acme_",
            "REFERRALS_DB_SCHEMA": "billing",
        }
    )
    assert (settings.db_table_prefix, settings.db_schema) == ("acme_", "billing")
