"""``referrals serve`` refuses an address another process listens on, even one
that shares its port the way Granian's workers do (SO_REUSEPORT)."""

from __future__ import annotations

import socket

import pytest

from referrals.entrypoints.server import AddressInUse, ensure_free


def listener(*, reuse_port: bool) -> socket.socket:
    sock = socket.socket()
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


@pytest.mark.parametrize("reuse_port", [True, False], ids=["port-sharing", "plain"])
def test_a_listened_address_is_refused_with_what_to_do(reuse_port: bool) -> None:
    with listener(reuse_port=reuse_port) as busy:
        port = busy.getsockname()[1]

        with pytest.raises(AddressInUse, match=rf"127\.0\.0\.1:{port} is already in use.*--port"):
            ensure_free("127.0.0.1", port)


def test_a_listener_on_every_address_makes_one_address_busy() -> None:
    with socket.socket() as everywhere:
        everywhere.bind(("0.0.0.0", 0))
        everywhere.listen()
        port = everywhere.getsockname()[1]

        with pytest.raises(AddressInUse):
            ensure_free("127.0.0.1", port)


def test_a_free_address_and_port_zero_pass() -> None:
    with listener(reuse_port=False) as probe:
        port = probe.getsockname()[1]
    ensure_free("127.0.0.1", port)  # closed again: free
    ensure_free("127.0.0.1", 0)
