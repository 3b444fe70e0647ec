"""The servers of ``bench.py``: the ceiling, ours on PostgreSQL + Redis, ours embedded.

Each runs ``referrals serve`` (the ceiling with ``--app bench.ceiling:create_app``)
pinned to the server core, in its own process group on a free 127.0.0.1 port,
and is stopped by that group's id through the caller's ``ExitStack``. Only the
CLI, ``REFERRALS_*`` variables and HTTP are used to drive them.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import benchlib
from benchlib import note

REFERRALS = Path(sys.executable).with_name("referrals")
CEILING_APP = "bench.ceiling:create_app"


@dataclass(frozen=True)
class Cores:
    """Where things run: ``load`` for wrk and the worker, ``server`` for every API."""

    load: int | None
    server: int | None

    @classmethod
    def detect(cls) -> Cores:
        allowed = sorted(os.sched_getaffinity(0))
        if len(allowed) < 2:
            note(f"only {len(allowed)} core: nothing is pinned, figures mix server and load")
            return cls(None, None)
        if shutil.which("taskset") is None:
            note("taskset is missing (util-linux): nothing is pinned")
            return cls(None, None)
        return cls(allowed[0], allowed[1])

    def pin(self, core: int | None, command: list[str]) -> list[str]:
        return command if core is None else ["taskset", "-c", str(core), *command]


@dataclass
class Api:
    name: str
    description: str
    server: benchlib.Server
    database: str | None = None
    """The PostgreSQL database it uses, for pg_stat_database."""
    extra: list[benchlib.Server] = field(default_factory=list)
    """Other processes it needs (the SMS worker)."""

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def pgid(self) -> int:
        return self.server.process.pid


def spawn(
    stack: contextlib.ExitStack, name: str, command: list[str], env: Mapping[str, str], cwd: Path
) -> benchlib.Server:
    """Start ``command`` in its own process group, stopped when ``stack`` closes."""
    log = cwd / f"{name}.log"
    process = benchlib.start_process(command, env, cwd, log)
    server = benchlib.Server(name, name, 1, 0, process, log)
    stack.callback(server.stop)
    return server


def serve(
    stack: contextlib.ExitStack,
    cores: Cores,
    name: str,
    env: Mapping[str, str],
    workdir: Path,
    extra_args: tuple[str, ...] = (),
) -> benchlib.Server:
    port = benchlib.free_port()
    command = cores.pin(cores.server, [str(REFERRALS), "serve", "--port", str(port), *extra_args])
    server = spawn(stack, name, command, env, workdir)
    server.port = port
    wait_ready(server)
    return server


def wait_ready(server: benchlib.Server, timeout: float = 60) -> None:
    """Until ``GET /`` gets any HTTP answer: the server accepts once start-up is done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"{server.name} exited ({server.process.returncode}):\n{tail}")
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    raise SystemExit(f"{server.name} did not answer on :{server.port} within {timeout:.0f} s")


def ours_env(extra: Mapping[str, str]) -> dict[str, str]:
    """No inherited REFERRALS_* variable; the load-test settings; a fixed secret."""
    env = benchlib.clean_environ() | benchlib.OURS_LOAD_SETTINGS
    return env | {"REFERRALS_SECRET_KEY": secrets.token_hex(32)} | dict(extra)


def start_ceiling(stack: contextlib.ExitStack, cores: Cores, workdir: Path) -> Api:
    path = os.pathsep.join(filter(None, [str(benchlib.ROOT), os.environ.get("PYTHONPATH")]))
    env = ours_env({"PYTHONPATH": path})
    server = serve(stack, cores, "ceiling", env, workdir, ("--app", CEILING_APP))
    return Api("ceiling", f"`referrals serve --app {CEILING_APP}`: GET / -> JSON", server)


def start_embedded(stack: contextlib.ExitStack, cores: Cores, workdir: Path) -> Api:
    server = serve(stack, cores, "embedded", ours_env({}), workdir)
    return Api(
        "embedded", "`referrals serve`, no variables: SQLite file, in-process stores", server
    )


@dataclass(frozen=True)
class Postgres:
    """Ours in production shape, before it is started: its database and settings."""

    database: str
    env: dict[str, str]


def prepare_postgres(
    stack: contextlib.ExitStack,
    admin_url: str,
    redis_url: str,
    workdir: Path,
    extra: Mapping[str, str] | None = None,
) -> Postgres:
    """A fresh database (dropped at the end), migrated; a Redis prefix (deleted at the
    end); ``extra`` settings on top of the load-test ones."""
    url = stack.enter_context(benchlib.temporary_database(admin_url))
    prefix = f"bench-{secrets.token_hex(4)}:"
    stack.callback(benchlib.delete_redis_prefix, redis_url, prefix)
    env = ours_env(
        {
            "REFERRALS_DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://", 1),
            "REFERRALS_REDIS_URL": redis_url,
            "REFERRALS_BROKER_URL": redis_url,
            "REFERRALS_REDIS_PREFIX": prefix,
        }
        | dict(extra or {})
    )
    benchlib.run_checked([str(REFERRALS), "migrate"], env, workdir, timeout=120)
    note(f"pg: database {url.rsplit('/', 1)[1]}, Redis prefix {prefix}")
    return Postgres(url.rsplit("/", 1)[1], env)


def start_postgres(
    stack: contextlib.ExitStack,
    cores: Cores,
    workdir: Path,
    pg: Postgres,
    name: str = "pg",
    note_: str = "",
) -> Api:
    worker_command = cores.pin(cores.load, [str(REFERRALS), "worker"])
    worker = spawn(stack, f"{name}-worker", worker_command, pg.env, workdir)
    server = serve(stack, cores, name, pg.env, workdir)
    if worker.process.poll() is not None:
        raise SystemExit(f"the SMS worker exited:\n{worker.log.read_text()[-3000:]}")
    description = "`referrals serve` + `referrals worker`: PostgreSQL, Redis stores and broker"
    return Api(name, description + note_, server, pg.database, [worker])


# --- what the processes hold ---------------------------------------------------------------


def log_problems(api: Api, show: int = 3) -> str:
    """Lines of the API's and its worker's logs that say ERROR, CRITICAL or Traceback."""
    found = []
    for server in [api.server, *api.extra]:
        with contextlib.suppress(OSError):
            lines = server.log.read_text(errors="replace").splitlines()
            bad = [x for x in lines if any(w in x for w in ("ERROR", "CRITICAL", "Traceback"))]
            if bad:
                found.append(
                    f"{server.name} log: {len(bad):,} such lines, first: " + " | ".join(bad[:show])
                )
    return "\n".join(found)


def group_rss_mb(pgid: int) -> dict[int, float]:
    """VmRSS of every live process in the process group ``pgid``, in MB."""
    sizes = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            status = (stat.parent / "status").read_text()
            line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
            sizes[int(stat.parent.name)] = int(line.split()[1]) / 1024
    return sizes


class Sessions:
    """``pg_stat_database.sessions`` of one database, read from the admin database."""

    FLUSH_SECONDS = 1.1
    """Backends report their counters to the statistics at most once a second."""

    def __init__(self, admin_url: str) -> None:
        import psycopg

        self.connection = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)

    def count(self, database: str, *, settle: bool = False) -> int | None:
        """None where PostgreSQL is older than 14 (no ``sessions`` column)."""
        import psycopg

        if settle:
            time.sleep(self.FLUSH_SECONDS)
        try:
            row = self.connection.execute(
                "SELECT sessions FROM pg_stat_database WHERE datname = %s", (database,)
            ).fetchone()
        except psycopg.errors.UndefinedColumn:
            return None
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.connection.close()
