"""Who asks for codes in the drill's hour, and what they do with them.

Organic: people on Russian mobile ranges and a few countries, from many
networks (one in fifty behind one NAT), each with a device of their own
(``X-Device-Id``), three in four verifying within 60 s.
Pumping: requests spread over 5 premium-like ranges of 100,000 numbers, from
rotating IPv4 /24s and IPv6 /64s, verifying under 1 %. Every address is a
global one (the referral signals ignore private and documentation networks,
as a server behind an untrusted proxy would see them). Every draw comes from
one seeded generator, so each run of a drill sees the same traffic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

HOUR = 3600.0
RANGES = ("+799980", "+799981", "+795823", "+795824", "+790055")
"""Five premium-like ranges: blocks of 100,000 numbers (the last five digits vary)."""
ORGANIC_RANGES = ("+7916", "+7926", "+7985", "+7903", "+7921")
ABROAD = ("+38050", "+7701", "+99890")
"""Ukraine, Kazakhstan, Uzbekistan mobiles."""
NAT = "85.140.0.1"
ORGANIC_IPV4 = (31, 46, 77, 85, 95, 178, 188, 217)
"""First octets of the organic IPv4 networks (Russian ISPs' ranges)."""
PUMPED_IPV4 = (45, 103, 185)
"""First octets of the pumping IPv4 networks (hosting ranges)."""
ORGANIC_VERIFY = 0.75
PUMPED_VERIFY = 0.005
TYPING = (5.0, 60.0)
"""Seconds (of the hour) between asking for a code and typing it."""


def organic_phone(rng: random.Random) -> str:
    if rng.random() < 0.85:
        return rng.choice(ORGANIC_RANGES) + f"{rng.randrange(10**7):07d}"
    return rng.choice(ABROAD) + f"{rng.randrange(10**7):07d}"


def ipv4(rng: random.Random, first_octets: tuple[int, ...]) -> str:
    first, second, third = rng.choice(first_octets), rng.randrange(256), rng.randrange(256)
    return f"{first}.{second}.{third}.{rng.randrange(1, 255)}"


def organic_address(rng: random.Random, n: int) -> str:
    if n % 50 == 0:
        return NAT  # one NAT: 2 % of the people
    if rng.random() < 0.3:
        return f"2a02:{rng.randrange(1 << 16):x}:{rng.randrange(1 << 16):x}::1"
    return ipv4(rng, ORGANIC_IPV4)


def pumped_phone(rng: random.Random) -> str:
    return rng.choice(RANGES) + f"{rng.randrange(10**5):05d}"


def pumped_address(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"2a03:{rng.randrange(1 << 16):x}:{rng.randrange(1 << 16):x}::7"
    return ipv4(rng, PUMPED_IPV4)


def is_pumped(phone: str) -> bool:
    return phone.startswith(RANGES)


@dataclass(frozen=True, slots=True)
class Login:
    """One login request of the hour: when (seconds of the hour), who, and
    after how many seconds of the hour its code is typed (``None``: never)."""

    at: float
    organic: bool
    phone: str
    address: str
    typing: float | None
    device: str | None = None
    """The app's ``X-Device-Id`` (organic people; pumping sends none)."""


def hour_of_traffic(people: int, attack: int, seed: int = 20) -> list[Login]:
    """``people`` organic logins and ``attack`` pumped ones, in time order."""
    rng = random.Random(seed)
    logins = []
    for n in range(people):
        typing = rng.uniform(*TYPING) if rng.random() < ORGANIC_VERIFY else None
        phone, address = organic_phone(rng), organic_address(rng, n)
        device = f"drill-device-{rng.getrandbits(64):016x}"
        logins.append(Login(rng.uniform(0, HOUR), True, phone, address, typing, device))
    for _ in range(attack):
        typing = rng.uniform(*TYPING) if rng.random() < PUMPED_VERIFY else None
        phone, address = pumped_phone(rng), pumped_address(rng)
        logins.append(Login(rng.uniform(0, HOUR), False, phone, address, typing))
    return sorted(logins, key=lambda login: login.at)


@dataclass(frozen=True, slots=True)
class Member:
    """Someone signed in: their bearer token, invite code, network and device."""

    phone: str
    token: str
    invite_code: str
    address: str
    device: str | None
