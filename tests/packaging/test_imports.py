"""``import referrals`` stays free of drivers, frameworks and queues, and so does
a whole service on in-memory adapters.

(pydantic is not on the list: dependency-injector imports it when it happens
to be installed, for an integration of its own.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "aiohttp",
    "aiosqlite",
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
