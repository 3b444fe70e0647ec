"""The client address behind proxies, from raw ASGI scopes.

Litestar's test client joins repeated header lines into one, which hides
the case a real server passes on: a client's own ``X-Forwarded-For`` line
followed by the proxy's. Here the scopes carry the lines as a server does.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from litestar.connection import ASGIConnection

from referrals.entrypoints.http.client_address import (
    client_address,
    forwarded_for,
    parse_ip,
    x_forwarded_for,
)

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


def connection(peer: str, *headers: tuple[str, str]) -> ASGIConnection[Any, Any, Any, Any]:
    scope = {
        "type": "http",
        "client": (peer, 50000),
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers],
    }
    return ASGIConnection(scope)  # type: ignore[arg-type]


def test_every_x_forwarded_for_line_is_read_and_the_last_counts() -> None:
    request = connection(
        "10.0.0.2",
        ("X-Forwarded-For", "203.0.113.1"),  # written by the client
        ("X-Forwarded-For", "198.51.100.1"),  # added by the proxy
    )
    assert client_address(request, PROXIES, "x-forwarded-for") == "198.51.100.1"


def test_trusted_proxies_are_skipped_across_lines() -> None:
    request = connection(
        "10.0.0.2",
        ("X-Forwarded-For", "1.1.1.1, 198.51.100.1"),
        ("X-Forwarded-For", "10.0.0.9"),
    )
    assert client_address(request, PROXIES, "x-forwarded-for") == "198.51.100.1"


def test_every_forwarded_line_is_read_when_configured() -> None:
    request = connection(
        "::1",
        ("Forwarded", "for=203.0.113.1"),
        ("Forwarded", 'for="[2001:db8::7]:443";proto=https'),
    )
    assert client_address(request, PROXIES, "forwarded") == "2001:db8::7"


def test_an_untrusted_peer_is_the_client_whatever_the_headers() -> None:
    request = connection("192.0.2.1", ("X-Forwarded-For", "198.51.100.1"))
    assert client_address(request, PROXIES, "x-forwarded-for") == "192.0.2.1"


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    request = connection("10.0.0.2", ("X-Forwarded-For", "198.51.100.1"))
    assert client_address(request, (), "x-forwarded-for") == "10.0.0.2"


def test_a_chain_of_trusted_proxies_only_gives_the_farthest() -> None:
    request = connection("10.0.0.2", ("X-Forwarded-For", "10.0.0.7, 10.0.0.3"))
    assert client_address(request, PROXIES, "x-forwarded-for") == "10.0.0.7"


def test_garbage_stops_the_walk_at_the_last_trusted_hop() -> None:
    request = connection("10.0.0.2", ("X-Forwarded-For", "198.51.100.1, nonsense, 10.0.0.3"))
    assert client_address(request, PROXIES, "x-forwarded-for") == "10.0.0.3"


def test_a_peer_that_is_not_an_address_is_kept_as_it_is() -> None:
    assert client_address(connection("testclient"), PROXIES, "x-forwarded-for") == "testclient"


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("192.0.2.1", "192.0.2.1"),
        (" 192.0.2.1:4711 ", "192.0.2.1"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:4711", "2001:db8::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("[::ffff:192.0.2.1]:80", "192.0.2.1"),
        ("unknown", None),
        ("_hidden", None),
        ("", None),
        ("1.2.3.4.5", None),
    ],
)
def test_addresses_as_proxies_write_them(text: str, address: str | None) -> None:
    ip = parse_ip(text)
    assert (str(ip) if ip is not None else None) == address


def test_forwarded_elements_keep_commas_inside_quotes() -> None:
    hops = forwarded_for(['for="a,b";proto=http, For=192.0.2.1;by=x', "by=10.0.0.1"])
    assert hops == ["a,b", "192.0.2.1", "unknown"]


def test_x_forwarded_for_skips_empty_hops() -> None:
    assert x_forwarded_for([" , 192.0.2.1,, ", "198.51.100.1"]) == ["192.0.2.1", "198.51.100.1"]
