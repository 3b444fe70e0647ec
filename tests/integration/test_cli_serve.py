"""The real server, started through the CLI, used over a socket."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.flows import FLOW_SETTINGS, walk_through_the_api
from tests.processes import BIN, child_env, serving

pytestmark = pytest.mark.slow


def test_a_user_logs_in_over_a_socket_on_the_embedded_default(tmp_path: Path) -> None:
    env = {"REFERRALS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3"} | FLOW_SETTINGS
    with serving(env, tmp_path) as (url, process):
        walk_through_the_api(url)
        # Granian stops its worker (the app's shut-down runs there), then exits.
        assert process.stop(signal.SIGTERM) == 0
    assert "Granian shutdown completed" in process.output()
    assert (tmp_path / "db.sqlite3").exists()  # serving migrated the database by itself
    assert "SMS to +79991234567" in process.output()


def test_the_next_page_link_verifies_over_a_socket(tmp_path: Path) -> None:
    env = {
        "REFERRALS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3",
        "REFERRALS_PUBLIC_URL": "http://public.example:8080",
    }
    with serving(env, tmp_path) as (url, _), httpx.Client(base_url=url) as client:
        login = client.post("/api/login/", json={"phone": "+7 999 123-45-67"})
        assert login.status_code == 200, login.text
        body = login.json()
        path = f"/api/verify/{body['token']}/"
        assert body["next_page"] == f"http://public.example:8080{path}"
        verify = client.post(path, json={"confirm_code": body["confirm_code"]})
        assert verify.status_code == 200, verify.text
        assert verify.json()["is_new_user"] is True
        profile = client.get("/api/profile/")  # the session cookie came with the answer
        assert profile.json()["phone"] == "+79991234567"
        assert client.post("/api/logout/").status_code == 200
        assert client.get("/api/profile/").status_code == 401


def test_serve_refuses_several_workers_without_shared_stores() -> None:
    result = subprocess.run(
        [str(BIN / "referrals"), "serve", "--workers", "2"],
        env=child_env({}),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "needs REFERRALS_REDIS_URL" in result.stderr


def test_bad_settings_stop_the_command_with_every_problem() -> None:
    result = subprocess.run(
        [str(BIN / "referrals"), "migrate"],
        env=child_env({"REFERRALS_CODE_LENGTH": "12", "REFERRALS_ENV": "prod"}),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "REFERRALS_CODE_LENGTH='12'" in result.stderr
    assert "REFERRALS_SECRET_KEY must be set" in result.stderr
