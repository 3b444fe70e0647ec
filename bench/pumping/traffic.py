"""Who asks for codes in the drill's hour, and what they do with them.

Organic: people on Russian mobile ranges and a few countries, from many
networks (one in fifty behind one NAT), three in four verifying within 60 s.
Pumping: requests spread over 5 premium-like ranges of 100,000 numbers, from
rotating IPv4 /24s and IPv6 /64s, verifying under 1 %. Every draw comes from
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
NAT = "192.0.2.1"
ORGANIC_VERIFY = 0.75
PUMPED_VERIFY = 0.005
TYPING = (5.0, 60.0)
"""Seconds (of the hour) between asking for a code and typing it."""


def organic_phone(rng: random.Random) -> str:
    if rng.random() < 0.85:
        return rng.choice(ORGANIC_RANGES) + f"{rng.randrange(10**7):07d}"
    return rng.choice(ABROAD) + f"{rng.randrange(10**7):07d}"


def organic_address(rng: random.Random, n: int) -> str:
    if n % 50 == 0:
        return NAT  # one NAT: 2 % of the people
    if rng.random() < 0.3:
        return f"2001:db8:{rng.randrange(1 << 16):x}:{rng.randrange(1 << 16):x}::1"
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def pumped_phone(rng: random.Random) -> str:
    return rng.choice(RANGES) + f"{rng.randrange(10**5):05d}"


def pumped_address(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"2001:db8:{rng.randrange(1 << 16):x}:{rng.randrange(1 << 16):x}::7"
    return f"172.{rng.randrange(16, 32)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


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


def hour_of_traffic(people: int, attack: int, seed: int = 20) -> list[Login]:
    """``people`` organic logins and ``attack`` pumped ones, in time order."""
    rng = random.Random(seed)
    logins = []
    for n in range(people):
        typing = rng.uniform(*TYPING) if rng.random() < ORGANIC_VERIFY else None
        phone, address = organic_phone(rng), organic_address(rng, n)
        logins.append(Login(rng.uniform(0, HOUR), True, phone, address, typing))
    for _ in range(attack):
        typing = rng.uniform(*TYPING) if rng.random() < PUMPED_VERIFY else None
        phone, address = pumped_phone(rng), pumped_address(rng)
        logins.append(Login(rng.uniform(0, HOUR), False, phone, address, typing))
    return sorted(logins, key=lambda login: login.at)
