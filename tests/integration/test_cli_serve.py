"""The real server, started through the CLI, used over a socket."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.flows import FLOW_SETTINGS, walk_through_the_api
from tests.processes import BIN, Process, free_port, run_cli, serving, wait_until_serving

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
        assert client.post("/api/logout/", json={}).status_code == 200
        assert client.get("/api/profile/").status_code == 401


def test_a_second_server_on_a_busy_address_refuses_to_start(tmp_path: Path) -> None:
    env = {"REFERRALS_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    with serving(env, tmp_path) as (url, first):
        port = url.rsplit(":", 1)[1]

        second = run_cli("serve", "--port", port, env=env, timeout=60)

        assert second.returncode == 2, second.stdout + second.stderr
        assert f"127.0.0.1:{port} is already in use" in second.stderr
        assert "Listening" not in second.stdout + second.stderr
        assert first.popen.poll() is None
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200


def test_serve_refuses_several_workers_without_shared_stores() -> None:
    result = run_cli("serve", "--workers", "2", env={}, timeout=30)
    assert result.returncode == 2
    assert "needs REFERRALS_REDIS_URL" in result.stderr


def test_bad_settings_stop_the_command_with_every_problem() -> None:
    result = run_cli(
        "migrate", env={"REFERRALS_CODE_LENGTH": "12", "REFERRALS_ENV": "prod"}, timeout=30
    )
    assert result.returncode == 2
    assert "REFERRALS_CODE_LENGTH='12'" in result.stderr
    assert "REFERRALS_SECRET_KEY must be set" in result.stderr


def bare_environment() -> dict[str, str]:
    """This process's environment without a single REFERRALS_* variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith("REFERRALS_")}


def test_a_bare_serve_never_exposes_codes(tmp_path: Path) -> None:
    """Issue 9 item 4: with no environment at all the login answer carries no code."""
    port = free_port()
    with (tmp_path / "serve.log").open("wb") as log:
        popen = subprocess.Popen(
            [str(BIN / "referrals"), "serve", "--port", str(port)],
            env=bare_environment(),
            cwd=tmp_path,  # the embedded SQLite file lands here
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process = Process(popen, tmp_path / "serve.log")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, process)
        login = httpx.post(f"{url}/api/login/", json={"phone": "+79991234567"}, timeout=10)
    finally:
        process.stop()

    assert login.status_code == 200, login.text
    assert "confirm_code" not in login.json()
    assert set(login.json()) == {
        "user",
        "token",
        "next_page",
        "expires_in",
        "resend_after",
        "channel",
    }


def test_serve_in_prod_lists_every_problem_and_exits_without_a_traceback() -> None:
    result = subprocess.run(
        [str(BIN / "referrals"), "serve"],
        env=bare_environment()
        | {
            "REFERRALS_ENV": "prod",
            "REFERRALS_COOKIE_SECURE": "false",
            "REFERRALS_CODE_MAX_ATTEMPTS": "1000",
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for problem in (
        "REFERRALS_SECRET_KEY must be set",
        "REFERRALS_SMS_GATEWAY=console is refused when REFERRALS_ENV=prod",
        "REFERRALS_COOKIE_SECURE=false is refused when REFERRALS_ENV=prod",
        "REFERRALS_CODE_MAX_ATTEMPTS=1000 is refused when REFERRALS_ENV=prod",
    ):
        assert problem in result.stderr


def test_serve_refuses_server_limits_it_cannot_hold() -> None:
    args = ["--max-header-size", "100", "--header-timeout", "0", "--max-connections", "0"]
    result = run_cli("serve", *args, env={}, timeout=30)
    assert result.returncode == 2
    assert "--max-header-size must be at least 8192 bytes" in result.stderr
    assert "--header-timeout must be between" in result.stderr
    assert "--max-connections must be at least 1" in result.stderr
