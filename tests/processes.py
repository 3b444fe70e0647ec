"""Start and stop real `referrals` processes for tests that need a socket."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 20) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The current environment without REFERRALS_* settings, plus ``extra``.

    Codes are exposed (the tests read them from the login answer, as the
    development command does) and the cookie is not ``Secure`` (the tests
    talk plain HTTP to 127.0.0.1), unless ``extra`` says otherwise.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFERRALS_")}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "REFERRALS_SMS_DELAY": "0-0",
            "REFERRALS_EXPOSE_CODES": "true",
            "REFERRALS_COOKIE_SECURE": "false",
        }
    )
    env.update(extra)
    return env


def run_cli(
    *args: str, env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``referrals ARGS`` to its end under ``child_env(env)``; its output captured as text."""
    return subprocess.run(
        [str(BIN / "referrals"), *args],
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextlib.contextmanager
def started(args: list[str], env: Mapping[str, str], log: Path) -> Iterator[Process]:
    """Run ``referrals ARGS`` until the block ends; its output goes to ``log``."""
    with log.open("wb") as sink:
        popen = subprocess.Popen(
            [str(BIN / "referrals"), *args],
            env=child_env(env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process = Process(popen, log)
    try:
        yield process
    finally:
        process.stop()


def wait_until_serving(url: str, process: Process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"the server exited:\n{process.output()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not start in {timeout} s:\n{process.output()}")


@contextlib.contextmanager
def serving(
    env: Mapping[str, str], log_dir: Path, *extra_args: str
) -> Iterator[tuple[str, Process]]:
    """``referrals serve`` on a free port; yields its base URL once it answers."""
    port = free_port()
    args = ["serve", "--port", str(port), *extra_args]
    with started(args, env, log_dir / f"serve-{port}.log") as process:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, process)
        yield url, process
