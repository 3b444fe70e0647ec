"""``dev.py``, the everyday commands of the quick start, as a newcomer runs them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from referrals.entrypoints.server import AddressInUse, ensure_free
from tests.processes import Process, child_env, free_port, wait_until_serving

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
VENV = {"REFERRALS_VENV": sys.prefix}
"""dev.py installs into this test's own venv: already done, so it installs nothing."""


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux: /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie has ended: only its parent's wait is missing)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "(zombie)" not in status


@pytest.fixture
def dev_serve(tmp_path: Path) -> Iterator[tuple[Process, int]]:
    port = free_port()
    env = child_env(VENV | {"REFERRALS_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"})
    log = tmp_path / "dev-serve.log"
    with log.open("wb") as sink:
        popen = subprocess.Popen(
            [sys.executable, str(ROOT / "dev.py"), "serve", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: cleaned up below whatever happens
        )
    process = Process(popen, log)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", process, timeout=120)
        yield process, port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait(10)


def test_sigterm_to_dev_py_serve_stops_the_server_it_started(
    dev_serve: tuple[Process, int],
) -> None:
    process, port = dev_serve
    server = children(process.popen.pid)
    assert server, "dev.py serve started no server"

    process.popen.send_signal(signal.SIGTERM)  # to dev.py alone, as `kill PID` does
    process.popen.wait(30)

    assert not [pid for pid in server if alive(pid)], process.output()
    try:
        ensure_free("127.0.0.1", port)
    except AddressInUse:
        pytest.fail(f"port {port} still taken after dev.py serve ended:\n{process.output()}")


def test_dev_py_cli_runs_an_operator_command(tmp_path: Path) -> None:
    env = child_env(VENV | {"REFERRALS_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"})

    result = subprocess.run(
        [sys.executable, str(ROOT / "dev.py"), "cli", "users", "show", "8 999 123-45-67"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 1, result.stdout + result.stderr  # the CLI's "no such user"
    assert "no user has phone +79991234567" in result.stderr


def test_dev_py_test_fast_runs_pytest_alone() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "dev.py"), "test", "--fast", "--version"],
        env=child_env(VENV),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "pytest" in result.stdout + result.stderr
    for slow_check in ("ruff", "mypy", "lint-imports", "mkdocs"):
        assert slow_check not in result.stdout + result.stderr
