"""The HTTP server behind ``referrals serve``: Granian, with limits an attacker cannot stretch.

Granian (a Rust HTTP server on hyper and tokio, speaking ASGI) bounds what
uvicorn leaves open: the bytes a request head may take, the time a client
may take to send it, and the connections one process holds at once. Every
app factory served by ``referrals serve`` (the API, a host app, the bench's
ceiling) runs through :func:`run` with the same options.
"""

from __future__ import annotations

import errno
import importlib
import inspect
import socket
import sys
from dataclasses import dataclass


class AddressInUse(Exception):
    """Another process already listens on the address ``referrals serve`` was given."""


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """What one client may hold of an API process.

    ``max_header_bytes`` (``REFERRALS_MAX_HEADER_SIZE``) is the largest request
    head (request line and headers): the app's request guard counts it exactly
    and answers 431 above it. Granian's read buffer is sized by it too, so no
    connection holds much more than that in memory (Granian itself refuses a
    head of some 48 KiB beyond its buffer, which the guard never lets matter).
    A body streams through that buffer and is capped by
    ``REFERRALS_MAX_BODY_SIZE`` instead. ``header_timeout`` is how
    long a client has to send a whole request head, and how long a kept-alive
    connection may sit idle. ``max_connections`` is how many connections one
    process serves at once (and so how many requests it has in flight); the
    next ones wait in the kernel's listen queue of ``backlog`` until one
    closes, and beyond that the kernel refuses them.
    """

    max_header_bytes: int
    header_timeout: float = 10.0
    max_connections: int = 1000
    backlog: int = 2048

    def problems(self) -> list[str]:
        """What the server would refuse, said with the option's name."""
        found = []
        if self.max_header_bytes < 8192:
            found.append("--max-header-size must be at least 8192 bytes")
        if not 0.001 <= self.header_timeout <= 60:
            found.append("--header-timeout must be between 0.001 and 60 seconds")
        if self.max_connections < 1:
            found.append("--max-connections must be at least 1")
        if self.backlog < 128:
            found.append("--backlog must be at least 128")
        return found


def ensure_free(host: str, port: int) -> None:
    """Raise :class:`AddressInUse` if something already listens on ``host:port``.

    Granian binds with ``SO_REUSEPORT`` so that its workers share one port,
    and a second server binds it just as quietly: the kernel then splits
    connections between two processes with different keys and memory, and
    logins fail at random. A socket bound without ``SO_REUSEPORT`` cannot
    share the port with a listener, so binding one first tells. (It keeps
    ``SO_REUSEADDR``, so connections still closing from a previous run do
    not count.) ``port`` 0 picks a free port anyway: nothing to check.
    """
    if port == 0:
        return
    for family, kind, protocol, _, address in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    ):
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise AddressInUse(
                        f"{host}:{port} is already in use (another `referrals serve`?):"
                        " stop it, or serve on another --port"
                    ) from exc
                # Anything else (no IPv6 here, say) is Granian's to report.


def is_factory(target: str) -> bool:
    """Whether ``MODULE:NAME`` names a factory (a function or class that
    builds the ASGI app) rather than an app itself, such as a module's
    ``app = Litestar(...)``. Imports the module, from the working directory
    as the server's workers will; ``ImportError`` or ``AttributeError`` when
    there is no such module or name."""
    module, colon, name = target.partition(":")
    if not (module and colon and name):
        raise ImportError(f"expected MODULE:NAME, not {target!r}")
    if "" not in sys.path:
        sys.path.insert(0, "")
    found = getattr(importlib.import_module(module), name)
    if inspect.isfunction(found) or inspect.ismethod(found) or inspect.isclass(found):
        return True
    if not callable(found):
        raise AttributeError(f"{target} is neither an ASGI app nor a factory of one")
    return False


def run(
    app_factory: str,
    *,
    factory: bool = True,
    host: str,
    port: int,
    workers: int,
    limits: ServerLimits,
    access_log: bool,
    log_level: str,
) -> None:
    """Serve ``MODULE:FACTORY`` (a function returning an ASGI app; with
    ``factory=False``, ``MODULE:APP``, the app itself) until SIGINT or SIGTERM."""
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    from referrals.entrypoints.logs import server_log_config

    Server(
        app_factory,
        factory=factory,
        address=host,
        port=port,
        interface=Interfaces.ASGI,  # with the lifespan: the service opens and closes there
        workers=workers,
        loop=Loops.auto,  # uvloop where it is installed
        # HTTP/1.1 only: reverse proxies speak it to their upstreams, and HTTP/2
        # would let one connection carry many requests and 16 MiB header blocks.
        http=HTTPModes.http1,
        websockets=False,
        backlog=limits.backlog,
        backpressure=limits.max_connections,
        http1_settings=HTTP1Settings(
            header_read_timeout=max(1, round(limits.header_timeout * 1000)),
            keep_alive=True,
            max_buffer_size=limits.max_header_bytes,
        ),
        log_level=LogLevels(log_level.lower()),
        log_access=access_log,
        log_dictconfig=server_log_config(),  # Granian's lines in our format, with request ids
        workers_kill_timeout=15,  # in-flight requests get 15 s to finish on SIGTERM
        respawn_failed_workers=True,  # a worker that dies (say, killed for memory) comes back
        respawn_interval=1.0,
    ).serve()
