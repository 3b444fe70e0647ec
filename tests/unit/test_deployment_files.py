"""docker-compose.yml and the Dockerfile use exactly the commands the tests run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from referrals.entrypoints.cli import _parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def test_every_referrals_command_in_compose_is_a_valid_cli_call(compose: dict[str, Any]) -> None:
    commands = {}
    for name, service in compose["services"].items():
        command = service.get("command")
        if command and command[0] == "referrals":
            commands[name] = _parser().parse_args(command[1:]).command
    assert commands == {"migrate": "migrate", "api": "serve", "worker": "worker"}


def test_compose_runs_the_api_and_worker_on_postgresql_and_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    env = services["api"]["environment"]
    assert env["REFERRALS_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["REFERRALS_REDIS_URL"].startswith("redis://")
    assert env["REFERRALS_BROKER_URL"].startswith("redis://")
    assert env["REFERRALS_ENV"] == "prod"
    assert services["worker"]["environment"] == env
    for backing in ("postgres", "redis"):
        assert services[backing]["healthcheck"]["test"]
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["restart"] == "no"


def test_the_image_installs_from_the_lock_file_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("\nFROM ") + dockerfile.startswith("FROM ") >= 2  # multi-stage
    assert "--require-hashes" in dockerfile
    assert "requirements/runtime.lock" in dockerfile
    user = [line for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert user and user[-1] != "USER root"
    cmd = [line for line in dockerfile.splitlines() if line.startswith("CMD ")][-1]
    assert '"referrals", "serve"' in cmd
