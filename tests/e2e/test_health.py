"""``/health``, ``/health/live`` and ``/health/ready`` of the standalone API."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from referrals.adapters.readiness import Readiness
from referrals.application.errors import ServiceUnavailable
from referrals.entrypoints.http import create_app
from referrals.problems import problem
from referrals.settings import Settings
from tests.e2e.conftest import PROBLEM_JSON, Api

pytestmark = pytest.mark.standalone


@pytest.mark.parametrize("path", ["/health", "/health/live", "/health/live/"])
async def test_liveness_answers_without_touching_anything(api: Api, path: str) -> None:
    answer = await api.client.get(path)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


async def test_in_memory_adapters_have_nothing_to_check(api: Api) -> None:
    answer = await api.client.get("/health/ready")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "checks": {}}


async def test_the_embedded_sqlite_database_is_checked(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3")
    async with AsyncTestClient(create_app(settings)) as client:
        answer = await client.get("/health/ready")
    assert answer.status_code == 200, answer.text
    checks = answer.json()["checks"]
    assert list(checks) == ["database"]
    assert checks["database"]["ok"] is True
    assert checks["database"]["latency_ms"] >= 0


async def test_a_dependency_that_fails_is_named_in_a_503_problem(api: Api) -> None:
    async def refuses() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    async def answers() -> None:
        return None

    api.service.readiness.probes.update({"database": answers, "redis": refuses})
    answer = await api.client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    assert answer.headers["retry-after"]
    problem = answer.json()
    assert problem["code"] == "service_unavailable"
    assert problem["failed"] == ["redis"]
    assert "redis" in problem["detail"]
    assert problem["checks"]["database"]["ok"] is True
    assert problem["checks"]["redis"] == {
        "ok": False,
        "latency_ms": problem["checks"]["redis"]["latency_ms"],
        "error": "ConnectionRefusedError: [Errno 111] Connection refused",
    }
    assert isinstance(api.service.readiness, Readiness)


async def test_not_ready_is_the_catalogues_503_in_the_readers_language(api: Api) -> None:
    async def refuses() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    api.service.readiness.probes.update({"redis": refuses})
    answer = await api.client.get("/health/ready", headers={"Accept-Language": "ru"})
    expected = problem(ServiceUnavailable("redis"), "ru")

    assert answer.status_code == 503
    assert answer.headers["content-language"] == "ru"
    body = answer.json()
    assert (body["title"], body["code"]) == (expected["title"], expected["code"])
    assert body["detail"] == "Не готов: не ответили redis."
