"""Where our tables live in a database: a name prefix and, on PostgreSQL, a schema.

Every table of ours is named ``<prefix><name>`` (``referrals_users``) and
the Alembic history is kept in ``<prefix>alembic_version``, so the service
can share a database with a host that has its own ``users`` table and its
own Alembic history (see ``docs/host-database.md``). The names are
identifiers written into SQL, so they are checked here, once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
MAX_PREFIX = 16
"""PostgreSQL cuts identifiers at 63 bytes; our longest name (the referrer
foreign key) is 26 bytes plus the prefix twice."""
MAX_SCHEMA = 63


@dataclass(frozen=True, slots=True)
class Namespace:
    """Our tables' name prefix (``referrals_``) and schema (``None``: the
    connection's default, PostgreSQL's ``search_path`` or SQLite's only one)."""

    prefix: str
    schema: str | None

    def __post_init__(self) -> None:
        if problems := namespace_problems(self.prefix, self.schema):
            raise ValueError("; ".join(problems))

    def table(self, name: str) -> str:
        """The name of our table ``name`` (``users`` -> ``referrals_users``)."""
        return self.prefix + name

    @property
    def version_table(self) -> str:
        """Where Alembic records the revision of our schema."""
        return self.table("alembic_version")

    def qualified(self, name: str) -> str:
        """``name`` prefixed and schema-qualified, to write into plain SQL."""
        table = self.table(name)
        return table if self.schema is None else f'"{self.schema}".{table}'


def namespace_problems(prefix: str, schema: str | None) -> list[str]:
    """What is wrong with a prefix and a schema (nothing: an empty list)."""
    problems: list[str] = []
    if not (IDENTIFIER.fullmatch(prefix) and len(prefix) <= MAX_PREFIX):
        problems.append(
            f"table prefix {prefix!r}: expected 1 to {MAX_PREFIX} lower-case letters, digits"
            " or underscores, not starting with a digit (e.g. referrals_)"
        )
    if schema is not None and not (IDENTIFIER.fullmatch(schema) and len(schema) <= MAX_SCHEMA):
        problems.append(
            f"schema {schema!r}: expected lower-case letters, digits or underscores,"
            " not starting with a digit"
        )
    return problems
