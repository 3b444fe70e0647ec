"""The pumping drill (docs/rules.md, *Conversion-driven throttling*): organic
logins and an SMS-pumping attack in the same hour, and what the defence let
through, in enforce, shadow and off.

    python3 dev.py pumping-drill            # 2,000 people and 20,000 pumped requests
    python3 dev.py pumping-drill --short    # a tenth of it (the CI form)

A bounded simulation on the use cases themselves, as the service wires them
(the container), on the in-memory stores and a clock it moves: every
request goes through the same limits, throttle and spend cap as over HTTP.
Organic: people on Russian mobile ranges and a few countries, from many
networks (some behind one NAT), three in four verifying within 60 s.
Pumping: requests spread over 5 premium-like ranges of 100,000 numbers,
from rotating IPv4 /24s and IPv6 /64s, verifying under 1 %.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from dataclasses import dataclass, field

from referrals.adapters.memory import (
    InMemoryChallengeStore,
    InMemoryDeliveryLedger,
    InMemoryRateLimiter,
    InMemorySessionStore,
    InMemoryUsers,
    RecordingCodeSender,
    RecordingSmsGateway,
)
from referrals.application.errors import RateLimited, SendingPaused
from referrals.application.policy import Policy
from referrals.application.ports import Limit
from referrals.application.request_code import CodeRequest
from referrals.application.spend import utc_day
from referrals.application.verify import VerifyCode
from referrals.domain.codes import open_code
from referrals.domain.spend import parse_prices
from referrals.service import Adapters, build_container
from referrals.settings import Settings
from referrals.testing import FakeClock

SECRET = b"pumping-drill-secret-key-0123456789ab"
HOUR = 3600.0
RANGES = ("+799980", "+799981", "+795823", "+795824", "+790055")
"""Five premium-like ranges: blocks of 100,000 numbers (the last five digits vary)."""
ORGANIC_RANGES = ("+7916", "+7926", "+7985", "+7903", "+7921")
ABROAD = ("+38050", "+7701", "+99890")
"""Ukraine, Kazakhstan, Uzbekistan mobiles."""
PRICES, CAP = "*=4.5", Limit(15_000, 86_400.0)


@dataclass
class Figures:
    mode: str
    pumped: int = 0
    pumped_sent: int = 0
    organic: int = 0
    organic_refused: int = 0
    first_throttle: float | None = None
    refused_by: dict[str, int] = field(default_factory=dict)
    spend: float = 0.0

    def rows(self) -> list[tuple[str, str, str]]:
        ratio = self.pumped_sent / self.pumped if self.pumped else 0.0
        refused = self.organic_refused / self.organic if self.organic else 0.0
        throttled = "never" if self.first_throttle is None else f"{self.first_throttle:.0f} s"
        spent = f"{self.spend:g} of {CAP.count}"
        return [
            ("pumped SMS sent ÷ pumped requests", f"{ratio:.1%}", "≤ 5 %"),
            ("organic logins refused or delayed", f"{refused:.2%}", "≤ 1 %"),
            ("time from the start of the attack to throttling", throttled, "reported"),
            ("spend with the cap set, against the cap", spent, "reported"),
        ]

    @property
    def pumped_ratio(self) -> float:
        return self.pumped_sent / self.pumped if self.pumped else 0.0

    @property
    def organic_refused_share(self) -> float:
        return self.organic_refused / self.organic if self.organic else 0.0


def organic_phone(rng: random.Random) -> str:
    if rng.random() < 0.85:
        return rng.choice(ORGANIC_RANGES) + f"{rng.randrange(10**7):07d}"
    return rng.choice(ABROAD) + f"{rng.randrange(10**7):07d}"


def organic_address(rng: random.Random, n: int) -> str:
    if n % 50 == 0:
        return "192.0.2.1"  # one NAT: 2 % of the people
    if rng.random() < 0.3:
        return f"2001:db8:{rng.randrange(1 << 16):x}:{rng.randrange(1 << 16):x}::1"
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def pumped_address(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"2001:db8:{rng.randrange(1 << 16):x}:{rng.randrange(1 << 16):x}::7"
    return f"172.{rng.randrange(16, 32)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


async def run(mode: str, people: int, attack: int, volume: int, seed: int = 20) -> Figures:
    rng = random.Random(seed)
    clock = FakeClock()
    start = clock.now()
    wide = Limit(1_000_000, HOUR)
    policy = Policy(
        pumping_mode=mode, pumping_min_volume=volume, global_send=wide, country_send=wide
    )
    settings = Settings(
        secret_key=SECRET,
        policy=policy,
        sms_prices=parse_prices(PRICES),
        spend_cap=(CAP,),
    )
    sender = RecordingCodeSender()
    adapters = Adapters(
        unit_of_work=InMemoryUsers().unit_of_work,
        challenges=InMemoryChallengeStore(),
        sessions=InMemorySessionStore(),
        limiter=InMemoryRateLimiter(),
        delivery_ledger=InMemoryDeliveryLedger(),
        code_sender=sender,
        sms_gateway=RecordingSmsGateway(),
        clock=clock,
    )
    container = build_container(settings, adapters=adapters)
    request_code, verify = container.request_code(), container.verify()
    spend = container.spend()

    # Every request of the hour, in time order: (second, kind, n).
    events = [(rng.uniform(0, HOUR), "organic", n) for n in range(people)]
    events += [(rng.uniform(0, HOUR), "pumped", n) for n in range(attack)]
    pending: list[tuple[float, str, str, str]] = []  # (when, token, code, address) to verify
    figures = Figures(mode)
    for at, kind, n in sorted(events):
        while pending and pending[0][0] <= at:
            when, token, code, address = pending.pop(0)
            clock.advance(max(0.0, start + when - clock.now()))
            await verify(VerifyCode(token, code, address))
        clock.advance(max(0.0, start + at - clock.now()))
        if kind == "organic":
            phone, address = organic_phone(rng), organic_address(rng, n)
            figures.organic += 1
        else:
            phone = rng.choice(RANGES) + f"{rng.randrange(10**5):05d}"
            address = pumped_address(rng)
            figures.pumped += 1
        try:
            answer = await request_code(CodeRequest(phone=phone, client_ip=address))
        except (RateLimited, SendingPaused) as refusal:
            limit = getattr(refusal, "limit", "") or "spend_cap"
            figures.refused_by[limit] = figures.refused_by.get(limit, 0) + 1
            if kind == "organic":
                figures.organic_refused += 1
            elif limit.startswith("pumping") and figures.first_throttle is None:
                figures.first_throttle = at
            continue
        if kind == "pumped":
            figures.pumped_sent += 1
        delivery = sender.queued[-1]
        code = open_code(SECRET, delivery.challenge_id, delivery.sealed_code)
        verifies = rng.random() < (0.75 if kind == "organic" else 0.005)
        if verifies:
            pending.append((at + rng.uniform(5, 60), answer.token, code, address))
            pending.sort()
    figures.spend = sum((await spend.ledger.day(utc_day(clock.now()))).values())
    return figures


def report(all_figures: list[Figures]) -> str:
    lines = ["| figure | " + " | ".join(f.mode for f in all_figures) + " | goal |", "|---|"]
    lines[1] = "|---|" + "---|" * len(all_figures) + "---|"
    for i, (name, _, goal) in enumerate(all_figures[0].rows()):
        cells = " | ".join(f.rows()[i][1] for f in all_figures)
        lines.append(f"| {name} | {cells} | {goal} |")
    lines.append("| farmed referrals held | not implemented | ≥ 95 % |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a tenth of the traffic (CI)")
    args = parser.parse_args()
    people, attack, volume = (200, 2_000, 10) if args.short else (2_000, 20_000, 100)
    figures = [
        asyncio.run(run(mode, people, attack, volume)) for mode in ("enforce", "shadow", "off")
    ]
    print(f"{people} people, {attack} pumped requests in one hour, min volume {volume}\n")
    print(report(figures))
    enforce = figures[0]
    ok = enforce.pumped_ratio <= 0.05 and enforce.organic_refused_share <= 0.01
    print("\nenforce meets the goals" if ok else "\nenforce MISSES a goal")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
