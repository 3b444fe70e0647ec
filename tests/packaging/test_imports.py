"""``import referrals`` stays free of drivers, frameworks and queues, and so does
a whole service on in-memory adapters.

(pydantic is not on the list: dependency-injector imports it when it happens
to be installed, for an integration of its own.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "aiohttp",
    "alembic",
    "granian",
    "litestar",
    "msgspec",
    "psycopg",
    "redis",
    "sqlalchemy",
    "taskiq",
    "taskiq_redis",
)

IN_MEMORY_FLOW = """
import asyncio, json, sys
import referrals, referrals.container, referrals.adapters.memory
from referrals.testing import InMemoryService

async def main():
    svc = InMemoryService()
    verified = await svc.sign_in("+79991234567")
    assert verified.is_new_user
asyncio.run(main())
"""


def loaded_after(code: str) -> set[str]:
    probe = code + "\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run(
        [sys.executable, "-c", "import json, sys\n" + probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "module", ["referrals", "referrals.container", "referrals.service", "referrals.testing"]
)
def test_importing_the_library_loads_no_driver_framework_or_queue(module: str) -> None:
    assert loaded_after(f"import {module}").isdisjoint(HEAVY)


def test_a_service_on_in_memory_adapters_runs_without_any_of_them() -> None:
    assert loaded_after(IN_MEMORY_FLOW).isdisjoint(HEAVY)


SERVED_APP = """
import asyncio, os, sys
sys.argv = ["referrals"]
os.environ["REFERRALS_DATABASE_URL"] = {url!r}
from referrals.adapters.sql import Namespace
from referrals.adapters.sql.database import prepare_database
from referrals.entrypoints.http.app import create_app
url, namespace = os.environ["REFERRALS_DATABASE_URL"], Namespace("referrals_", None)
asyncio.run(prepare_database(url, namespace, timeout=3.0, prepared_statements=True))
app = create_app()

async def main():
    async with app.lifespan():
        pass
asyncio.run(main())
"""
NOT_WHILE_SERVING = {"alembic", "httpx", "greenlet", "aiosqlite", "mako"}
"""Migrations, the webhook's HTTP client and SQLAlchemy's async bridge: a served
API needs none of them, and each costs resident memory in every process."""


def _served_modules(url: str) -> set[str]:
    probe = SERVED_APP.format(url=url)
    probe += "\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", "import json, sys\n" + probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def _served_loads_nothing_it_does_not_use(modules: set[str]) -> None:
    assert {m.split(".")[0] for m in modules}.isdisjoint(NOT_WHILE_SERVING)
    assert "sqlalchemy.ext.asyncio" not in modules
    assert "sqlalchemy.orm" not in modules


def test_the_served_embedded_app_loads_no_migrations_http_client_or_async_engine(
    tmp_path: Path,
) -> None:
    """The first start migrates the new SQLite file in a child process."""
    modules = _served_modules(f"sqlite:///{tmp_path}/db.sqlite3")
    _served_loads_nothing_it_does_not_use(modules)
    assert "sqlite3" in modules


@pytest.mark.postgres
def test_the_served_postgres_app_loads_no_migrations_http_client_or_async_engine(
    postgres_database: object,
) -> None:
    modules = _served_modules(postgres_database.url)  # type: ignore[attr-defined]
    _served_loads_nothing_it_does_not_use(modules)
    assert "psycopg_pool" in modules
