#!/usr/bin/env python3
"""The project's two everyday commands, needing nothing but Python 3.11+ and pip.

    python3 dev.py serve [ARGS]   install what serving needs, then `referrals serve ARGS`
    python3 dev.py test [ARGS]    install what testing needs, then lint, types,
                                  layer rules and `pytest ARGS`
    python3 dev.py bench [ARGS]   install what serving and profiling need, then run
                                  the benchmark (bench/README.md; needs wrk)
    python3 dev.py lock           re-pin requirements/*.lock from pyproject.toml
    python3 dev.py soak [ARGS]    the soak drill (bench/soak): a few minutes of traffic
                                  through restarts of its own PostgreSQL and Redis

Everything goes into ./.venv (or $REFERRALS_VENV), installed from the
hash-pinned lock files and re-installed only when they change.
"""

from __future__ import annotations

import hashlib
import os
import shutil
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


DEV_SERVE = {"REFERRALS_EXPOSE_CODES": "true", "REFERRALS_COOKIE_SECURE": "false"}
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
    return subprocess.call([str(BIN / "referrals"), "serve", *args], cwd=ROOT, env=env)


def test(args: list[str]) -> int:
    install("test")
    linted = ["src", "tests", "bench", "examples", "scripts", "dev.py"]
    checks = [
        [BIN / "ruff", "check", *linted],
        [BIN / "ruff", "format", "--check", *linted],
        [BIN / "mypy"],
        [BIN / "mypy", "--strict", "examples/library_host", "examples/litestar_host"],
        [BIN / "lint-imports"],
        [BIN / "pytest", *args],
    ]
    for check in checks:
        print("+", " ".join(str(part) for part in check), flush=True)
        if subprocess.call([str(part) for part in check], cwd=ROOT) != 0:
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


def soak(args: list[str]) -> int:
    """Needs PostgreSQL's and Redis's server binaries (it starts its own)."""
    install("test")
    return subprocess.call([str(BIN / "python"), "-m", "bench.soak", *args], cwd=ROOT)


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


COMMANDS = {"serve": serve, "test": test, "bench": bench, "lock": lock, "soak": soak}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
