"""What a session remembers of the device that opened it: enough for its owner
to recognise it in their list of sessions (``docs/account.md``), no more."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPV4_MASK = 24
IPV6_MASK = 48
"""A session keeps its address's network only: ``203.0.113.0/24``, ``2001:db8:1::/48``."""
USER_AGENT_MAX = 256
"""Characters of a ``User-Agent`` a session keeps (the rest is cut)."""
SEEN_STEP = 60.0
"""A session's "last seen" moves at most once in so many seconds: reading the
profile does not turn into a write per request."""


@dataclass(frozen=True, slots=True)
class Device:
    """The masked address and the user agent a session was opened from."""

    address: str = ""
    """A network (``203.0.113.0/24``), or empty when no address was known."""
    user_agent: str = ""


NO_DEVICE = Device()
"""A session opened where no caller is known (a library call, an operator)."""


def mask_address(address: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) network of ``address``; empty for anything
    that is not an address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is None:
            return str(ipaddress.IPv6Network((ip, IPV6_MASK), strict=False))
        ip = ip.ipv4_mapped
    return str(ipaddress.IPv4Network((ip, IPV4_MASK), strict=False))


def device_of(address: str, user_agent: str | None) -> Device:
    """What a session keeps of a caller: the network of its address, and its
    user agent without control characters, cut to :data:`USER_AGENT_MAX`."""
    agent = "".join(ch for ch in (user_agent or "") if ch.isprintable())
    return Device(address=mask_address(address), user_agent=agent.strip()[:USER_AGENT_MAX])
