"""`referrals migrate` and what `serve` does with an outdated PostgreSQL schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.flows import FLOW_SETTINGS, walk_through_the_api
from tests.processes import run_cli, serving

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_serve_refuses_an_unmigrated_postgresql_and_says_what_to_run(
    empty_postgres_url: str,
) -> None:
    result = run_cli("serve", "--port", "1", env={"REFERRALS_DATABASE_URL": empty_postgres_url})
    assert result.returncode != 0
    assert "run `referrals migrate`" in result.stdout + result.stderr


def test_migrate_twice_then_serve_on_postgresql(empty_postgres_url: str, tmp_path: Path) -> None:
    env = {"REFERRALS_DATABASE_URL": empty_postgres_url}
    for _ in range(2):  # migrating is idempotent
        result = run_cli("migrate", env=env)
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout
    with serving(env | FLOW_SETTINGS, tmp_path) as (url, _):
        walk_through_the_api(url)
