"""How the host runs its migrations: Alembic with the host's ``migrations/``
folder, whose ``env.py`` brings referrals' history along."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    """The host's Alembic configuration for the database at ``url`` (SQLAlchemy's spelling)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(url: str) -> None:
    """``alembic upgrade head``: the host's history, then referrals'."""
    command.upgrade(alembic_config(url), "head")
