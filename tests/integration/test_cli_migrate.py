"""`referrals migrate` and what `serve` does with an outdated PostgreSQL schema."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.flows import FLOW_SETTINGS, walk_through_the_api
from tests.processes import BIN, child_env, serving

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def referrals(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "referrals"), *args],
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_refuses_an_unmigrated_postgresql_and_says_what_to_run(
    empty_postgres_url: str,
) -> None:
    result = referrals("serve", "--port", "1", env={"REFERRALS_DATABASE_URL": empty_postgres_url})
    assert result.returncode != 0
    assert "run `referrals migrate`" in result.stdout + result.stderr


def test_migrate_twice_then_serve_on_postgresql(empty_postgres_url: str, tmp_path: Path) -> None:
    env = {"REFERRALS_DATABASE_URL": empty_postgres_url}
    for _ in range(2):  # migrating is idempotent
        result = referrals("migrate", env=env)
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout
    with serving(env | FLOW_SETTINGS, tmp_path) as (url, _):
        walk_through_the_api(url)
