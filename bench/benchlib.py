"""What the benchmarks share: servers, seeding through the API, wrk, PostgreSQL.

Run the scripts with the project's venv (``.venv/bin/python bench/run.py``):
it has psycopg and redis. Every server starts in its own process group on a
free 127.0.0.1 port and is stopped by that group's id; every wait has a bound.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OURS_BIN = ROOT / ".venv" / "bin" / "referrals"
DJANGO_DIR = BENCH / "django_reference"
DJANGO_VENV = BENCH / ".venv-django"
LOCK = ROOT / "requirements" / "bench.lock"
WRK_DIR = BENCH / "wrk"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# The product's limits, lifted so that one address may log in at load-test rates.
OURS_LOAD_SETTINGS = {
    "REFERRALS_EXPOSE_CODES": "true",
    "REFERRALS_SMS_DELAY": "0-0",
    "REFERRALS_LIMIT_IP_SEND": "1000000000/60",
    "REFERRALS_LIMIT_IP_VERIFY": "1000000000/60",
    "REFERRALS_RESEND_COOLDOWN": "0.001",
    "REFERRALS_LIMIT_PHONE_SEND": "1000000/60",
    "REFERRALS_LIMIT_PHONE_IP_SEND": "1000000/60",
    "REFERRALS_LIMIT_PREFIX_SEND": "1000000000/60",
    "REFERRALS_LIMIT_COUNTRY_SEND": "1000000000/60",
    "REFERRALS_LIMIT_GLOBAL_SEND": "1000000000/60",
    # One address asking for many codes it never verifies is what pumping looks
    # like: shadow mode counts it all (the production path's round trips) and
    # refuses nothing.
    "REFERRALS_PUMPING_MODE": "shadow",
}

DEFENCE = {
    # pg with the pumping throttle enforced and every SMS costed under a cap, at
    # volumes the bench's one address never reaches: every login reads and
    # counts its groups and reserves its charge, and none is refused
    "pg-defended": {
        "REFERRALS_PUMPING_MODE": "enforce",
        "REFERRALS_PUMPING_MIN_VOLUME": "1000000000",
        "REFERRALS_SMS_PRICES": "*=1",
        "REFERRALS_SPEND_CAP": "1000000000/86400",
    },
    # pg with neither: the pumping throttle off, nothing costed
    "pg-open": {"REFERRALS_PUMPING_MODE": "off"},
}
"""Servers run only when named (``--servers ceiling,pg-defended,pg-open``):
what the abuse defences cost a login, measured side by side."""
DJANGO_LOAD_SETTINGS = {
    "REF_EXPOSE_CODES": "true",
    "REF_SMS_DELAY": "0",
    "REF_RESEND_COOLDOWN": "0.001",
}


def note(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so ``finally`` blocks stop every server."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_environ() -> dict[str, str]:
    """This process's environment without any REFERRALS_* or REF_* setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("REFERRALS_", "REF_"))}


# --- tools -------------------------------------------------------------------------------


def find_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    return wrk


def ensure_django_venv() -> Path:
    """bench/.venv-django with requirements/bench.lock, (re)installed when the lock changes."""
    python = DJANGO_VENV / "bin" / "python"
    stamp = DJANGO_VENV / ".installed"
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return DJANGO_VENV
    note(f"installing {LOCK.relative_to(ROOT)} into {DJANGO_VENV.relative_to(ROOT)}")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DJANGO_VENV)], check=True, timeout=120)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--require-hashes",
            "-r",
            str(LOCK),
        ],
        check=True,
        timeout=600,
    )
    stamp.write_text(digest)
    return DJANGO_VENV


# --- processes -----------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    description: str
    processes: int
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        stop_process(self.process)


def start_process(
    command: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            list(command),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped by that id
        )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM to the process group we started, SIGKILL after ``timeout`` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process in the process group ``pgid``."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # fields[0] is the state, [2] the group
                ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_healthy(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"{server.name} exited ({server.process.returncode}):\n{tail}")
        with contextlib.suppress(OSError):
            status, _ = call(server.port, "GET", "/health", timeout=2)
            if status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"{server.name} did not answer /health within {timeout:.0f} s")


def run_checked(command: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float) -> None:
    done = subprocess.run(
        list(command), env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def start_ours(
    name: str,
    workdir: Path,
    database_url: str,
    *,
    workers: int = 1,
    redis_url: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Server:
    """``referrals serve``: in-process stores, or Redis ones when ``redis_url`` is given."""
    env = clean_environ() | OURS_LOAD_SETTINGS | {"REFERRALS_DATABASE_URL": database_url}
    env["REFERRALS_SECRET_KEY"] = secrets.token_hex(32)
    if redis_url:
        env |= {"REFERRALS_REDIS_URL": redis_url, "REFERRALS_REDIS_PREFIX": f"bench{name}:"}
    env |= dict(extra_env or {})
    if not database_url.startswith("sqlite"):
        run_checked([str(OURS_BIN), "migrate"], env, workdir, timeout=120)
    port = free_port()
    log = workdir / f"{name}.log"
    command = [str(OURS_BIN), "serve", "--port", str(port), "--workers", str(workers)]
    stores = "Redis stores" if redis_url else "in-process stores"
    server = Server(
        name=name,
        description=f"ours: granian x{workers}, {stores}",
        processes=workers,
        port=port,
        process=start_process(command, env, workdir, log),
        log=log,
    )
    wait_healthy(server)
    return server


def start_django(name: str, workdir: Path, database_url: str, *, threads: int = 0) -> Server:
    """The reference under gunicorn: 2 sync workers, or 2 gthread workers x ``threads``."""
    venv = ensure_django_venv()
    env = clean_environ() | DJANGO_LOAD_SETTINGS | {"REF_DATABASE_URL": database_url}
    env["DJANGO_SETTINGS_MODULE"] = "refsite.settings"
    run_checked([str(venv / "bin" / "python"), "manage.py", "migrate", "-v0"], env, DJANGO_DIR, 300)
    port = free_port()
    log = workdir / f"{name}.log"
    command = [str(venv / "bin" / "gunicorn"), "refsite.wsgi:application"]
    command += ["--workers", "2", "--bind", f"127.0.0.1:{port}", "--no-control-socket"]
    kind = "sync"
    if threads:
        command += ["--threads", str(threads)]
        kind = f"gthread x{threads} threads"
    server = Server(
        name=name,
        description=f"Django+DRF: gunicorn x2 {kind}",
        processes=2,
        port=port,
        process=start_process(command, env, DJANGO_DIR, log),
        log=log,
    )
    wait_healthy(server)
    return server


# --- the API ---------------------------------------------------------------------------


def call(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    timeout: float = 10,
) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    return response.status, (json.loads(raw) if raw else None)


def expect(port: int, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    status, answer = call(port, method, path, body, token)
    if status != 200:
        raise SystemExit(f"{method} {path} on :{port} answered {status}: {answer}")
    return answer


def sign_in(port: int, phone: str) -> tuple[str, dict[str, Any]]:
    """Log in and verify: the session token and the verify answer."""
    login = expect(port, "POST", "/api/login/", {"phone": phone})
    code = login["confirm_code"]
    verified = expect(port, "POST", f"/api/verify/{login['token']}/", {"confirm_code": code})
    return verified["access_token"], verified


def seed_phone(number: int) -> str:
    """+7900NNNNNNN: a range the load scripts never use (their tags are 10..99)."""
    return f"+7900{number:07d}"


def seed_referrals(port: int, referrals: int) -> str:
    """Through the API: a user who applied someone's code and whose code ``referrals``
    others applied. Returns that user's session token."""
    _, referrer = sign_in(port, seed_phone(1))
    token, main = sign_in(port, seed_phone(2))
    applied = {"used_referral_code": referrer["user"]["invite_referral_code"]}
    expect(port, "POST", "/api/profile/", applied, token)
    code = main["user"]["invite_referral_code"]
    for number in range(referrals):
        other, _ = sign_in(port, seed_phone(10 + number))
        expect(port, "POST", "/api/profile/", {"used_referral_code": code}, other)
    profile = expect(port, "GET", "/api/profile/", token=token)
    assert profile["referred_users_count"] == referrals, profile
    assert len(profile["referred_users"]) == min(referrals, 100), profile
    assert profile["used_referral_code"] == referrer["user"]["invite_referral_code"], profile
    return token


def encode_cursor(rank: int) -> str:
    """The product's cursor (``referrals.application.profile.encode_cursor``)."""
    return base64.urlsafe_b64encode(f"r{rank}".encode()).decode().rstrip("=")


# --- wrk --------------------------------------------------------------------------------


@dataclass
class Measure:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    """Non-2xx/3xx answers, socket errors and timeouts."""
    verified: int
    raw: dict[str, Any] = field(repr=False)
    cpu_seconds: float = 0.0
    """CPU the server's processes used during the run (set by the caller)."""

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / max(self.requests, 1)

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Measure:
        """From wrk's summary line (bench/wrk/common.lua), plus ``cpu_seconds`` if there."""
        errors = sum(raw[k] for k in ("status_errors", "connect_errors", "read_errors", "timeouts"))
        return cls(
            requests=raw["requests"],
            seconds=raw["duration_us"] / 1e6,
            p50_ms=raw["p50_us"] / 1000,
            p99_ms=raw["p99_us"] / 1000,
            errors=errors,
            verified=raw["verified"],
            raw=raw,
            cpu_seconds=raw.get("cpu_seconds", 0.0),
        )

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def pairs(self) -> float:
        return self.verified / self.seconds


def run_wrk(
    port: int,
    path: str,
    scenario: str,
    script_args: Sequence[str] = (),
    *,
    seconds: float,
    connections: int,
    threads: int = 1,
    pin: Sequence[str] = (),
) -> Measure:
    """One wrk run of ``bench/wrk/<scenario>.lua`` (after ``common.lua``), the command
    after ``pin`` (e.g. ``taskset -c 0``)."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / f"{scenario}.lua"
        script.write_text(
            (WRK_DIR / "common.lua").read_text() + "\n" + (WRK_DIR / f"{scenario}.lua").read_text()
        )
        command = [*pin, find_wrk(), "-t", str(threads), "-c", str(connections)]
        command += ["-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(script)]
        command += [f"http://127.0.0.1:{port}{path}", "--", *script_args]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return Measure.from_raw(json.loads(lines[-1].removeprefix("BENCH_JSON ")))


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# --- PostgreSQL and Redis ----------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def postgres_available(admin_url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def create_database(admin_url: str, name: str) -> None:
    import psycopg

    assert name.replace("_", "").isalnum(), name
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    assert name.startswith("referrals_bench_"), name
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def temporary_database(admin_url: str, suffix: str = "") -> Iterator[str]:
    """A new ``referrals_bench_<random>`` database, dropped on the way out."""
    name = f"referrals_bench_{secrets.token_hex(4)}{suffix}"
    create_database(admin_url, name)
    try:
        yield with_database(admin_url, name)
    finally:
        drop_database(admin_url, name)


def delete_redis_prefix(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


def machine() -> str:
    cpus = os.cpu_count()
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{cpus} cores ({model or 'unknown CPU'}), Python {sys.version.split()[0]}"
