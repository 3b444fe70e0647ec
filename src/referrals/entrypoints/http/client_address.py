"""The client's address: the socket peer, or what trusted proxies say it is.

Proxies append the address they received a request from, so a chain read
from the right is true up to the first hop that is not a trusted proxy:
that hop is the client. Anything to its left was written by the client and
is ignored. Per-address limits then count the address by its group (an
IPv6 address by its network; see ``rate_limits.client_group``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any, Literal

from litestar.connection import ASGIConnection

from referrals.settings import Network

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
ForwardedHeader = Literal["x-forwarded-for", "forwarded"]

_ELEMENT = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\.)*")+')
"""One comma-separated element of ``Forwarded``, commas inside quotes kept."""
_PAIR = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def parse_ip(text: str) -> IP | None:
    """An address as proxies write it: ``192.0.2.1``, ``192.0.2.1:4711``,
    ``2001:db8::1``, ``[2001:db8::1]`` or ``[2001:db8::1]:4711``; IPv4-mapped
    IPv6 becomes IPv4. ``None`` for anything else (``unknown``, obfuscated
    names, garbage)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def x_forwarded_for(lines: Sequence[str]) -> list[str]:
    """The hops of every ``X-Forwarded-For`` line, in order (each proxy
    appends to the last line or adds a line of its own: both read the same)."""
    return [hop.strip() for line in lines for hop in line.split(",") if hop.strip()]


def forwarded_for(lines: Sequence[str]) -> list[str]:
    """The ``for=`` of every element of every RFC 7239 ``Forwarded`` line, in
    order. An element without ``for=`` counts as a hop nobody can name."""
    hops: list[str] = []
    for line in lines:
        for element in _ELEMENT.findall(line):
            pairs = {key.lower(): value for key, value in _PAIR.findall(element)}
            value = pairs.get("for", "unknown").strip()
            if value.startswith('"') and value.endswith('"') and len(value) > 1:
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            hops.append(value)
    return hops


def _trusted(ip: IP, proxies: Sequence[Network]) -> bool:
    return any(ip in network for network in proxies)


def client_address(
    connection: ASGIConnection[Any, Any, Any, Any],
    proxies: Sequence[Network],
    header: ForwardedHeader,
) -> str:
    """The client's address, as text.

    The socket peer, unless it is one of ``proxies``: then ``header``'s
    chain (every line of it) read from the right, skipping trusted proxies;
    the first hop that is not one is the client. A hop that is not an
    address stops the walk at the last trusted hop, since nothing to its
    left can be believed. If every hop is a trusted proxy, the farthest is
    the client. A peer that is not an address (a test client, a Unix
    socket) is never trusted.
    """
    peer_text = connection.client.host if connection.client else "unknown"
    peer = parse_ip(peer_text)
    if peer is None:
        return peer_text
    if not proxies or not _trusted(peer, proxies):
        return str(peer)
    lines = connection.headers.getall(header, [])
    hops = forwarded_for(lines) if header == "forwarded" else x_forwarded_for(lines)
    nearest = peer
    for hop in reversed(hops):
        ip = parse_ip(hop)
        if ip is None:
            return str(nearest)
        if not _trusted(ip, proxies):
            return str(ip)
        nearest = ip
    return str(nearest)
