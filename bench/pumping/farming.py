"""Referral farming in the drill (docs/rules.md, *Referral integrity*).

Farmed: before the hour, one owner and ``FARMED`` accounts sign in from one
network (an IPv4 /24) with one device (``X-Device-Id``), one after another
(signed in all at once, the network's unverified sends get it throttled by
the pumping defence first), and each applies the owner's code. Organic: after the hour, ``FRIENDS``
people who verified in it each apply the code of another such person, from
their own network and device. The policy is the default one (every signal
holds): a referral is held when the apply answer's ``used_referral_status``
is ``pending_review``; :func:`review` counts what ``referrals referrals
review`` lists, the operator's view of the same.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

from bench.pumping.people import Run
from tests.processes import run_cli

FARM_NETWORK = "5.255.255"
FARM_DEVICE = "drill-farm-phone-0001"
FARMED = 50
FRIENDS = 300


def farm_phone(n: int) -> str:
    """The farm's ``n``th SIM (0: the owner's), each in a block of 1,000 of its own
    (the fixed per-block limit would stop a farm on consecutive numbers first)."""
    return f"+791655{n:03d}00"


async def farm(run: Run, count: int = FARMED) -> Counter[str]:
    """Each farmed account's outcome: ``pending_review``, ``applied``, or why it failed."""
    owner = await run.sign_in(farm_phone(0), f"{FARM_NETWORK}.1", FARM_DEVICE)
    if isinstance(owner, str):
        return Counter({f"owner: {owner}": count})
    accounts = [  # one after another, each verified: the farm's network converts
        await run.sign_in(farm_phone(n), f"{FARM_NETWORK}.{n + 1}", FARM_DEVICE)
        for n in range(1, count + 1)
    ]
    outcomes: Counter[str] = Counter()
    for account in accounts:
        outcome = (
            "not signed in" if account is None else await run.apply(account, owner.invite_code)
        )
        outcomes[outcome] += 1
    return outcomes


async def friends(run: Run, count: int = FRIENDS, seed: int = 7) -> Counter[str]:
    """People who verified in the hour apply each other's codes (never a cycle:
    owners and appliers are two halves of them); each applier's outcome."""
    rng = random.Random(seed)
    members = sorted(run.members, key=lambda m: m.phone)
    rng.shuffle(members)
    half = len(members) // 2
    owners, appliers = members[:half], members[half : half + count]
    outcomes = await asyncio.gather(
        *(run.apply(applier, rng.choice(owners).invite_code) for applier in appliers)
    )
    return Counter(outcomes)


def review(env: dict[str, str]) -> Counter[str]:
    """Held referrals as ``referrals referrals review --json`` lists them: farmed or organic."""
    done = run_cli("referrals", "review", "--json", "--limit", "1000", env=env)
    if done.returncode != 0:
        return Counter({"review failed": 1})
    held = json.loads(done.stdout)["held"]
    farmed = {farm_phone(n) for n in range(1, FARMED + 1)}
    return Counter("farmed" if user["phone"] in farmed else "organic" for user in held)
