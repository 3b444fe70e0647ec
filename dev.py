#!/usr/bin/env python3
"""The project's two everyday commands, needing nothing but Python 3.11+ and pip.

    python3 dev.py serve [ARGS]   install what serving needs, then `referrals serve ARGS`
                                  (http://127.0.0.1:8000/; Ctrl-C stops it; --port N)
    python3 dev.py cli ARGS       install what serving needs, then `referrals ARGS`
                                  (the operator commands: users, sessions, limits, stats…)
    python3 dev.py test [ARGS]    install what testing needs, then lint, types, layer
                                  rules, the docs site (mkdocs --strict) and `pytest ARGS`
    python3 dev.py test --fast [ARGS]   only `pytest ARGS`
    python3 dev.py bench [ARGS]   install what serving and profiling need, then run
                                  the benchmark (bench/README.md; needs wrk)
    python3 dev.py lock           re-pin requirements/*.lock from pyproject.toml
    python3 dev.py webhook-drill [ARGS]   the webhook drill (bench/webhook_drill.py): 500
                                  sign-ups and 300 applications through receiver outages,
                                  a killed worker and a restart; every event must arrive
    python3 dev.py soak [ARGS]    the soak drill (bench/soak): a few minutes of traffic
                                  through restarts of its own PostgreSQL and Redis
    python3 dev.py pumping-drill [--short]   the pumping drill (bench/pumping_drill.py):
                                  organic logins and an SMS-pumping attack in one hour,
                                  over HTTP against servers it starts (embedded, and
                                  PostgreSQL + Redis with 2 processes and the worker), in
                                  enforce and shadow; exit 1 if enforce misses a goal

Everything goes into ./.venv (or $REFERRALS_VENV), installed from the
hash-pinned lock files and re-installed only when they change.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("REFERRALS_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
LOCKS = {
    "serve": ROOT / "requirements/runtime.lock",
    "test": ROOT / "requirements/dev.lock",
    "bench": ROOT / "requirements/bench-tools.lock",  # added to the serve venv
}


def run(*command: str | Path) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], cwd=ROOT, check=True)


def install(kind: str) -> None:
    """Create the venv and install the lock file for ``kind`` unless already done."""
    lock = LOCKS[kind]
    digest = hashlib.sha256(lock.read_bytes() + (ROOT / "pyproject.toml").read_bytes())
    stamp = VENV / f".installed-{kind}"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return
    if not (BIN / "python").exists():
        print(f"+ python3 -m venv {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    python = BIN / "python"
    pip = (python, "-m", "pip", "--disable-pip-version-check", "-q")
    run(*pip, "install", "--require-hashes", "--no-deps", "-r", lock)
    run(*pip, "install", "--no-deps", "-e", ROOT)
    stamp.write_text(digest.hexdigest())


EXAMPLES = sorted(
    path.name for path in (ROOT / "examples").iterdir() if path.is_dir() and path.name[0].isalpha()
)
"""The example hosts (every folder of examples/): each is tested with the suite
and type-checked strictly."""

DEV_SERVE = {
    "REFERRALS_EXPOSE_CODES": "true",
    "REFERRALS_COOKIE_SECURE": "false",
    "REFERRALS_TEST_PHONES": "+79990000999:1234",  # the Postman collection deletes it
}
"""What `dev.py serve` turns on for trying the API by hand on this machine."""


def serve(args: list[str]) -> int:
    install("serve")
    env = {**DEV_SERVE, **os.environ}
    print(
        "+ development: login answers carry the code (REFERRALS_EXPOSE_CODES=true) and the"
        " session cookie works over plain http (REFERRALS_COOKIE_SECURE=false);"
        " `referrals serve` alone does neither",
        flush=True,
    )
    return supervise([str(BIN / "referrals"), "serve", *args], env=env)


def supervise(command: list[str], env: dict[str, str] | None = None) -> int:
    """Run ``command`` until it ends; SIGTERM, SIGHUP and Ctrl-C end it too.

    A signal sent to this process alone (``kill PID``, a supervisor stopping
    it) is passed on to the child, and the child is waited for: it never
    outlives this process, still serving. Ctrl-C reaches the child from the
    terminal by itself; this process just waits for it to finish.
    """
    received: list[int] = []
    children: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        for child in children:
            child.send_signal(signum)

    for name in ("SIGTERM", "SIGHUP"):  # no SIGHUP on Windows
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), forward)
    child = subprocess.Popen(command, cwd=ROOT, env=env)
    children.append(child)
    if received:  # a signal came before the child was there to get it
        child.send_signal(received[0])
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # the child got it too: let it stop what it started
            continue


def cli(args: list[str]) -> int:
    install("serve")
    return supervise([str(BIN / "referrals"), *args])


def test(args: list[str]) -> int:
    install("test")
    if args[:1] == ["--fast"]:
        return subprocess.call([str(BIN / "pytest"), *args[1:]], cwd=ROOT)
    linted = ["src", "tests", "bench", "examples", "scripts", "dev.py"]
    checks = [
        [BIN / "ruff", "check", *linted],
        [BIN / "ruff", "format", "--check", *linted],
        [BIN / "mypy"],
        [BIN / "mypy", "--strict", *(f"examples/{name}" for name in EXAMPLES)],
        [BIN / "lint-imports"],
        [BIN / "mkdocs", "build", "--strict", "--quiet"],  # the docs site: links, pages
        [BIN / "pytest", *args],
    ]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's notice about its successor
    for check in checks:
        print("+", " ".join(str(part) for part in check), flush=True)
        if subprocess.call([str(part) for part in check], cwd=ROOT, env=env) != 0:
            return 1
    return 0


def bench(args: list[str]) -> int:
    if shutil.which("wrk") is None:
        print(
            "dev.py bench needs wrk, the HTTP load generator. On Debian or Ubuntu:\n"
            "    sudo apt-get install -y wrk",
            file=sys.stderr,
        )
        return 2
    install("serve")
    install("bench")
    command = [str(BIN / "python"), str(ROOT / "bench" / "bench.py"), *args]
    print("+", " ".join(command), flush=True)
    process = subprocess.Popen(command, cwd=ROOT)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:  # the bench got it too: let it stop what it started
            continue


def webhook_drill(args: list[str]) -> int:
    install("test")  # the receiver is examples/webhook_receiver, served by Granian
    return subprocess.call([str(BIN / "python"), "-m", "bench.webhook_drill", *args], cwd=ROOT)


def soak(args: list[str]) -> int:
    """Needs PostgreSQL's and Redis's server binaries (it starts its own)."""
    install("test")
    return subprocess.call([str(BIN / "python"), "-m", "bench.soak", *args], cwd=ROOT)


def pumping_drill(args: list[str]) -> int:
    install("test")
    return subprocess.call([str(BIN / "python"), "-m", "bench.pumping_drill", *args], cwd=ROOT)


def lock(_: list[str]) -> int:
    """Needs `uv` on PATH (pip install uv); pins for every platform, with hashes."""
    for kind, extra in (("serve", ["--extra", "all"]), ("test", ["--extra", "dev"])):
        run(
            "uv",
            "pip",
            "compile",
            "pyproject.toml",
            *extra,
            "--generate-hashes",
            "--universal",
            "--python-version",
            "3.11",
            "-q",
            "--custom-compile-command",
            "python3 dev.py lock",
            "-o",
            LOCKS[kind],
        )
    run(
        "uv", "pip", "compile", "bench/tools.in", "--generate-hashes", "--universal",
        "--python-version", "3.11", "-q", "--custom-compile-command", "python3 dev.py lock",
        "-o", LOCKS["bench"],
    )  # fmt: skip
    return 0


COMMANDS = {
    "serve": serve,
    "cli": cli,
    "test": test,
    "bench": bench,
    "lock": lock,
    "soak": soak,
    "webhook-drill": webhook_drill,
    "pumping-drill": pumping_drill,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
