"""Our Alembic history. The scripts run through ``migrate.upgrade``, which
hands them the :class:`~referrals.adapters.sql.namespace.Namespace` to
work in: :func:`namespace` reads it."""

from __future__ import annotations

from alembic import op

from referrals.adapters.sql.namespace import Namespace


def namespace() -> Namespace:
    """The namespace the running migration works in (prefix and schema)."""
    from referrals.adapters.sql.migrate import NAMESPACE_OPTION

    found = op.get_context().opts.get(NAMESPACE_OPTION)
    if not isinstance(found, Namespace):
        raise RuntimeError("run our migrations with referrals.adapters.sql.migrate.upgrade")
    return found
