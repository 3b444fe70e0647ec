"""A throwaway PgBouncer in transaction mode in front of the tests' PostgreSQL.

Debian's ``pgbouncer`` (``apt-get install pgbouncer``), on a free port, with
a pool of two server connections per database so that a client's
transactions really do move between server connections (what breaks
server-side prepared statements). Missing binary: the test is skipped, or
fails under ``CI=true``. As root it drops to the ``postgres`` user itself.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from tests.processes import free_port
from tests.servers import unavailable

START_TIMEOUT = 15.0
SERVER_POOL = 2
"""Server connections per database and user: fewer than the clients' pools."""


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(p).exists()), None
    )


def _config(root: Path, port: int, upstream_host: str, upstream_port: int) -> str:
    lines = [
        "[databases]",
        f"* = host={upstream_host} port={upstream_port}",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        "unix_socket_dir =",
        "auth_type = trust",
        f"auth_file = {root / 'userlist.txt'}",
        "pool_mode = transaction",
        f"default_pool_size = {SERVER_POOL}",
        "max_client_conn = 500",
        f"logfile = {root / 'pgbouncer.log'}",
        f"pidfile = {root / 'pgbouncer.pid'}",
    ]
    if os.geteuid() == 0:  # PgBouncer will not run as root
        lines.append("user = postgres")
    return "\n".join(lines) + "\n"


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


@contextlib.contextmanager
def pgbouncer(database_url: str) -> Iterator[str]:
    """Start PgBouncer in front of ``database_url``'s server; yield the same URL
    through it (any database name passes through), and stop it at the end."""
    binary = pgbouncer_binary()
    if binary is None:
        unavailable("pgbouncer is not installed (apt-get install pgbouncer)")
        raise AssertionError  # unreachable: unavailable() skips or fails
    upstream = urlsplit(database_url)
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="referrals-pgbouncer-"))
    user = upstream.username or "postgres"
    (root / "userlist.txt").write_text(f'"{user}" ""\n')
    config = root / "pgbouncer.ini"
    config.write_text(_config(root, port, upstream.hostname or "127.0.0.1", upstream.port or 5432))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (root, *root.iterdir()):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    process = subprocess.Popen(
        [binary, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = root / "pgbouncer.log"
                raise RuntimeError(
                    "pgbouncer did not start: " + (log.read_text() if log.exists() else "")
                )
            time.sleep(0.05)
        netloc = upstream.netloc.rsplit("@", 1)
        credentials = netloc[0] + "@" if len(netloc) == 2 else ""
        yield upstream._replace(netloc=f"{credentials}127.0.0.1:{port}").geturl()
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        shutil.rmtree(root, ignore_errors=True)
