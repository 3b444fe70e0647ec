"""docker-compose.yml and the Dockerfile use exactly the commands the tests run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from referrals.entrypoints.cli import _parser
from referrals.settings import SettingsError, load_settings

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


def test_the_api_and_the_worker_are_probed_by_their_readiness(compose: dict[str, Any]) -> None:
    services = compose["services"]
    api = _parser().parse_args(services["api"]["healthcheck"]["test"][2:])
    assert (api.command, api.worker) == ("health", False)
    serve = _parser().parse_args(services["api"]["command"][1:])
    assert api.url == f"http://127.0.0.1:{serve.port}/health/ready"
    worker = _parser().parse_args(services["worker"]["healthcheck"]["test"][2:])
    assert (worker.command, worker.worker) == ("health", True)
    for name in ("api", "worker"):
        assert services[name]["healthcheck"]["test"][:2] == ["CMD", "referrals"]
        assert not services[name]["healthcheck"].get("disable")


def test_the_image_checks_the_apis_readiness() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    instruction = dockerfile.split("\nHEALTHCHECK ", 1)[1].replace("\\\n", " ")
    command = instruction.splitlines()[0].split(" CMD ", 1)[1].strip()
    args = [part.strip(' "') for part in command.strip("[]").split(",")]
    assert args[0] == "referrals"
    parsed = _parser().parse_args(args[1:])
    assert (parsed.command, parsed.worker) == ("health", False)
    assert parsed.url.endswith(":8000/health/ready")


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


REQUIRED = re.compile(r"^\$\{(REFERRALS_\w+):\?[^}]+\}$")
"""``${NAME:?message}``: compose stops with ``message`` when ``NAME`` is unset."""

EXAMPLE_VALUES = {
    "REFERRALS_SECRET_KEY": "k" * 43,
    "REFERRALS_SMS_WEBHOOK_URL": "https://sms.example.com/send",
    "REFERRALS_SMS_WEBHOOK_SECRET": "w" * 32,
}
"""What a person running compose would export."""


def image_environment() -> dict[str, str]:
    """The ``ENV`` lines of the Dockerfile's last stage."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    last_stage = dockerfile[dockerfile.rindex("\nFROM ") :]
    env: dict[str, str] = {}
    for line in last_stage.splitlines():
        if line.startswith("ENV "):
            for part in shlex.split(line[4:]):
                name, _, value = part.partition("=")
                env[name] = value
    return env


def test_the_image_starts_in_prod_mode() -> None:
    assert image_environment()["REFERRALS_ENV"] == "prod"


def test_the_bare_image_refuses_to_start_and_says_what_to_set() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(image_environment())

    message = str(refused.value)
    for needed in ("REFERRALS_SECRET_KEY", "REFERRALS_SMS_GATEWAY=webhook", "SMS_WEBHOOK_URL"):
        assert needed in message


def test_compose_asks_for_each_secret_and_then_passes_the_prod_checks(
    compose: dict[str, Any],
) -> None:
    environment = dict(compose["services"]["api"]["environment"])
    asked = {}
    for name, value in environment.items():
        if match := REQUIRED.match(str(value)):
            asked[name] = match.group(1)
    assert asked == {name: name for name in EXAMPLE_VALUES}

    settings = load_settings({k: str(v) for k, v in environment.items()} | EXAMPLE_VALUES)

    assert settings.env == "prod"
    assert settings.cookie_secure
    assert settings.sms_gateway == "webhook"


@pytest.fixture(scope="module")
def compose_dev() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "compose.dev.yaml").read_text()))


def test_the_dev_compose_runs_the_same_commands_as_the_production_one(
    compose: dict[str, Any], compose_dev: dict[str, Any]
) -> None:
    def commands(services: dict[str, Any]) -> dict[str, tuple[str, str]]:
        found = {}
        for name, service in services.items():
            if (command := service.get("command")) and command[0] == "referrals":
                health = service.get("healthcheck", {}).get("test", ["", ""])[1:]
                checked = (
                    _parser().parse_args(health[1:]).command if health[:1] == ["referrals"] else ""
                )
                found[name] = (_parser().parse_args(command[1:]).command, checked)
        return found

    assert commands(compose_dev["services"]) == commands(compose["services"])
    api = _parser().parse_args(compose_dev["services"]["api"]["command"][1:])
    assert compose_dev["services"]["api"]["ports"] == [f"127.0.0.1:{api.port}:{api.port}"]


def test_the_dev_compose_signs_people_in_without_an_sms_service_and_prod_refuses_it(
    compose_dev: dict[str, Any],
) -> None:
    environment = {k: str(v) for k, v in compose_dev["services"]["api"]["environment"].items()}
    assert (
        compose_dev["services"]["worker"]["environment"]
        == compose_dev["x-referrals"]["environment"]
    )

    settings = load_settings(image_environment() | environment)  # over the image's prod default

    assert (settings.env, settings.sms_gateway) == ("dev", "console")
    assert settings.policy.expose_codes
    assert not settings.cookie_secure
    assert settings.shared_stores  # PostgreSQL and Redis, as in production
    with pytest.raises(SettingsError):
        load_settings(environment | {"REFERRALS_ENV": "prod"})


def test_the_build_context_leaves_out_local_state_but_not_what_the_image_copies() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "**/node_modules", "*.sqlite3", ".artifacts"} <= ignored
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, flags=re.MULTILINE)
    assert len(copied) >= 3
    for sources in copied:
        for source in sources.split():
            assert source.split("/")[0] not in ignored, f"the Dockerfile copies {source}"
