"""Throwaway PostgreSQL clusters and Redis servers that tests stop and start.

Fault tests must never touch the shared servers (5432, 6379): each
:class:`PostgresCluster` and :class:`RedisServer` here lives in a temporary
directory of its own, on a free port, and keeps that port across
:meth:`~PostgresCluster.stop` and :meth:`~PostgresCluster.start`, so a client
that was pointed at it sees an outage and then the same server come back.

Every wait is bounded, and the context managers stop the processes and
remove the directories even when the test fails. Missing binaries skip the
test, except under ``CI=true``, where they fail it.

PostgreSQL refuses to run as root: when the tests run as root, the cluster's
commands run as the ``postgres`` system user (through ``runuser``), in a
directory that user owns. ``REFERRALS_TEST_PG_BIN`` names the directory of
``initdb``/``pg_ctl`` if it is neither on ``PATH`` nor under
``/usr/lib/postgresql/*/bin``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
import redis

from tests.processes import free_port

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
COMMAND_TIMEOUT = 60.0
"""Seconds any one command (initdb, pg_ctl, a server start) may take."""
DATABASE = "referrals"


def unavailable(message: str) -> NoReturn:
    """Skip the test, or fail it under ``CI=true`` where every server is required."""
    if IN_CI:
        pytest.fail(message + " (CI=true: the fault tests are required)")
    pytest.skip(message)


def postgres_bin_dir() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``, or ``None`` if there is none."""
    candidates: list[str] = []
    if configured := os.environ.get("REFERRALS_TEST_PG_BIN"):
        candidates.append(configured)
    if found := shutil.which("pg_ctl"):
        candidates.append(str(Path(found).parent))
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates.extend(sorted(versions, key=lambda p: int(Path(p).parent.name), reverse=True))
    for candidate in candidates:
        path = Path(candidate)
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    return None


def _run(args: list[str], *, timeout: float = COMMAND_TIMEOUT) -> str:
    """Run a command, bounded; raise with its output if it fails."""
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{args[0]} took over {timeout} s: {exc.output!r}") from exc
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} exited with {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result.stdout


class PostgresCluster:
    """A PostgreSQL cluster of its own: ``initdb`` into a temporary directory,
    trust authentication, on ``127.0.0.1:port``, with a database ``referrals``.

    :meth:`stop` is a fast shutdown (sessions are cut, as when a server goes
    away); :meth:`start` brings the same data back on the same port.
    """

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="referrals-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_postgres: list[str] = []
        self._frozen: list[int] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        """The ``REFERRALS_DATABASE_URL`` of the cluster's database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _pg(self, tool: str, *args: str) -> str:
        return _run([*self._as_postgres, str(self.bin_dir / tool), *args])

    def create(self) -> None:
        """``initdb``, start, and create the database."""
        self._pg(
            "initdb",
            "--pgdata",
            str(self.data),
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        self.start()
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
            autocommit=True,
            connect_timeout=10,
        ) as admin:
            admin.execute(f'CREATE DATABASE "{DATABASE}"')

    def start(self) -> None:
        """Start on the same port and data; returns once it accepts connections."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        self._pg(
            "pg_ctl",
            "start",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.log),
            "--wait",
            "--timeout",
            str(int(COMMAND_TIMEOUT / 2)),
            "-o",
            options,
        )

    def stop(self, mode: str = "fast") -> None:
        """Shut down (``fast``: roll back and disconnect every session)."""
        self._pg(
            "pg_ctl",
            "stop",
            "--pgdata",
            str(self.data),
            "--mode",
            mode,
            "--wait",
            "--timeout",
            str(int(COMMAND_TIMEOUT / 2)),
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def processes(self) -> list[int]:
        """The postmaster and every process it started (backends, writers)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        return [postmaster, *_children(postmaster)]

    def freeze(self) -> None:
        """Suspend every process of the cluster (SIGSTOP): connections are
        accepted by the kernel but nothing answers, as behind a dead network."""
        self._frozen = self.processes()
        for pid in self._frozen:
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """Resume what :meth:`freeze` suspended."""
        frozen, self._frozen = self._frozen, []
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        """Stop at once if it still runs, and remove every file."""
        try:
            self.thaw()
            if self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class RedisServer:
    """``redis-server`` on ``127.0.0.1:port``.

    :meth:`stop` ends the process; :meth:`start` runs a new one on the same
    port. By default it persists nothing, so the new one is empty; with
    ``persist`` it keeps an append-only file (fsync every second), as a
    production broker should, and the new one starts with what the old one
    had when it was stopped.
    """

    def __init__(
        self,
        binary: str,
        *,
        persist: bool = False,
        port: int | None = None,
        options: tuple[str, ...] = (),
    ) -> None:
        self.binary = binary
        self.persist = persist
        self.port = port or free_port()
        self.options = options
        """More ``redis-server`` arguments, e.g. those of a cluster node."""
        self.root = Path(tempfile.mkdtemp(prefix="referrals-redis-"))
        self.log = self.root / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Run the server; returns once it answers ``PING``."""
        if self._process is not None:
            raise RuntimeError("the Redis server is already running")
        with self.log.open("ab") as sink:
            self._process = subprocess.Popen(
                [
                    self.binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "yes" if self.persist else "no",
                    "--daemonize",
                    "no",
                    "--dir",
                    str(self.root),
                    *self.options,
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + COMMAND_TIMEOUT / 2
        client = redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1)
        try:
            while True:
                if self._process.poll() is not None:
                    self._process = None
                    raise RuntimeError(f"redis-server exited:\n{self.logs()}")
                with contextlib.suppress(redis.RedisError):
                    if client.ping():
                        return
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis-server did not answer:\n{self.logs()}")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """End the process (SIGTERM, then SIGKILL after 10 s) and wait for it."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def freeze(self) -> None:
        """Suspend the server (SIGSTOP): connections open, nothing answers."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    def destroy(self) -> None:
        try:
            self.thaw()
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A started cluster with its database, destroyed when the block ends."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        unavailable("PostgreSQL binaries (initdb, pg_ctl) are not installed")
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _has_user("postgres")):
        unavailable("running as root needs `runuser` and a `postgres` user for PostgreSQL")
    cluster = PostgresCluster(bin_dir)
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.destroy()


@contextlib.contextmanager
def redis_server(*, persist: bool = False) -> Iterator[RedisServer]:
    """A started, empty Redis server, ended when the block ends (see
    :class:`RedisServer` for ``persist``)."""
    binary = os.environ.get("REFERRALS_TEST_REDIS_SERVER") or shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed")
    server = RedisServer(binary, persist=persist)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


CLUSTER_BUS_OFFSET = 10_000
"""A cluster node also listens on its port plus this, for the other nodes."""


def _cluster_port() -> int:
    """A free port whose cluster bus port (``port + 10000``) is free too."""
    for _ in range(100):
        port = free_port()
        if port + CLUSTER_BUS_OFFSET > 65_535:
            continue
        with contextlib.suppress(OSError), socket.socket() as probe:
            probe.bind(("127.0.0.1", port + CLUSTER_BUS_OFFSET))
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


class RedisClusterNodes:
    """Three ``redis-server`` primaries joined into a Redis Cluster (no
    replicas), each in a temporary directory of its own, persisting nothing.

    ``url`` is the ``REFERRALS_REDIS_URL`` that names them all.
    """

    def __init__(self, binary: str, cli: str, size: int = 3) -> None:
        self.cli = cli
        self.nodes = [
            RedisServer(binary, port=port, options=_cluster_options(port))
            for port in (_cluster_port() for _ in range(size))
        ]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def create(self) -> None:
        """Start the nodes, give them the slots, and wait until every node says ``ok``."""
        for node in self.nodes:
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        _run(
            [
                self.cli,
                "--cluster",
                "create",
                *addresses,
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ]
        )
        deadline = time.monotonic() + COMMAND_TIMEOUT / 2
        while not all(self._ready(node) for node in self.nodes):
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")
            time.sleep(0.05)

    @staticmethod
    def _ready(node: RedisServer) -> bool:
        client = redis.Redis(port=node.port, socket_connect_timeout=1, socket_timeout=1)
        try:
            info = client.execute_command("CLUSTER", "INFO")
            text = info.decode() if isinstance(info, bytes) else str(info)
            return "cluster_state:ok" in text
        except redis.RedisError:
            return False
        finally:
            client.close()

    def destroy(self) -> None:
        for node in self.nodes:
            node.destroy()


def _cluster_options(port: int) -> tuple[str, ...]:
    return (
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        f"nodes-{port}.conf",
        "--cluster-node-timeout",
        "2000",
    )


@contextlib.contextmanager
def redis_cluster() -> Iterator[RedisClusterNodes]:
    """A started three-primary Redis Cluster, ended when the block ends."""
    binary = os.environ.get("REFERRALS_TEST_REDIS_SERVER") or shutil.which("redis-server")
    cli = shutil.which("redis-cli")
    if binary is None or cli is None:
        unavailable("redis-server and redis-cli are needed for the Redis Cluster tests")
    cluster = RedisClusterNodes(binary, cli)
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.destroy()


def _children(parent: int) -> list[int]:
    """The ids of the processes whose parent is ``parent`` (Linux ``/proc``)."""
    found: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # "pid (comm) state ppid ...": comm may hold spaces, so split after it.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                found.append(int(stat.parent.name))
    return found


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
