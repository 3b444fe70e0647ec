"""The namespace our tables live in by default, for tests that open databases themselves."""

from referrals.adapters.sql import Namespace
from referrals.settings import Settings

_defaults = Settings()
NAMESPACE = Namespace(_defaults.db_table_prefix, _defaults.db_schema)
"""``referrals_`` tables in the connection's default schema."""
