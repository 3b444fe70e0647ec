"""Concurrent bursts against the limits, shared by the in-memory (unit) and
the Redis and Redis Cluster (integration) runs.

Each scenario fires a few hundred requests at once and asserts the exact
bound: no more codes are looked at, guesses checked or codes sent than the
limit allows, and (where nothing else refuses) exactly that many.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from referrals.application.errors import RateLimited, TooManyAttempts
from referrals.application.ports import Limit
from referrals.application.verify import VerifyCode
from referrals.domain.errors import CodeInvalid, ReferralCodeNotFound

PHONE = "+79991234567"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10000:04d}"


def outcomes(results: list[Any]) -> Counter[str]:
    """How many results of each kind (exception class names; ``ok`` for results)."""
    return Counter("ok" if not isinstance(r, BaseException) else type(r).__name__ for r in results)


def unexpected(results: list[Any], *allowed: type[BaseException]) -> list[BaseException]:
    return [r for r in results if isinstance(r, BaseException) and not isinstance(r, allowed)]


async def two_hundred_wrong_codes_check_exactly_ten(world: Any) -> None:
    """200 wrong codes at once from 200 addresses against a phone limit of 10."""
    world = world.with_policy(code_max_attempts=1000, phone_failure=Limit(10, 86400))
    token, code = await world.login(PHONE, "10.9.0.1")
    results = await asyncio.gather(
        *(
            world.verify(VerifyCode(token, wrong(code), f"10.8.{i // 250}.{i % 250}"))
            for i in range(200)
        ),
        return_exceptions=True,
    )
    assert not unexpected(results, CodeInvalid, TooManyAttempts)
    assert outcomes(results) == {"CodeInvalid": 10, "TooManyAttempts": 190}
    assert {r.limit for r in results if isinstance(r, TooManyAttempts)} == {"phone_failure"}


async def wrong_codes_from_one_address_check_exactly_its_share(world: Any) -> None:
    """100 wrong codes at once from one address: its own ladder answers first."""
    world = world.with_policy(code_max_attempts=1000)
    token, code = await world.login(PHONE, "10.9.0.1")
    results = await asyncio.gather(
        *(world.verify(VerifyCode(token, wrong(code), "10.9.0.2")) for _ in range(100)),
        return_exceptions=True,
    )
    assert not unexpected(results, CodeInvalid, TooManyAttempts)
    assert outcomes(results)["CodeInvalid"] == world.policy.phone_ip_failure[0].count


async def a_burst_of_logins_sends_one_code(world: Any) -> None:
    """50 logins at once for one phone from 50 addresses: the cooldown lets one through."""
    results = await asyncio.gather(
        *(world.login(PHONE, f"10.7.0.{i}") for i in range(50)), return_exceptions=True
    )
    assert not unexpected(results, RateLimited)
    assert outcomes(results) == {"ok": 1, "RateLimited": 49}


async def a_burst_of_logins_from_one_address_stays_within_its_limit(world: Any) -> None:
    """60 logins at once for 60 phones from one address against a limit of 30.

    The phones are in 60 blocks of numbers, so only the address's limit is
    shared (a second shared quota may refuse more on Redis Cluster, never fewer)."""
    results = await asyncio.gather(
        *(world.login(f"+7999{i:03d}1234", "10.6.0.1") for i in range(60)), return_exceptions=True
    )
    assert not unexpected(results, RateLimited)
    assert outcomes(results) == {"ok": 30, "RateLimited": 30}


async def forty_unknown_invite_codes_get_exactly_ten_answers(world: Any) -> None:
    """40 unknown invite codes at once by one user against a limit of 10."""
    user = (await world.sign_in(PHONE, "10.5.0.1")).profile.id
    results = await asyncio.gather(
        *(world.apply_referral(user, f"ZZZZ{i:02d}") for i in range(40)), return_exceptions=True
    )
    assert not unexpected(results, ReferralCodeNotFound, TooManyAttempts)
    assert outcomes(results) == {"ReferralCodeNotFound": 10, "TooManyAttempts": 30}


SCENARIOS = [
    two_hundred_wrong_codes_check_exactly_ten,
    wrong_codes_from_one_address_check_exactly_its_share,
    a_burst_of_logins_sends_one_code,
    a_burst_of_logins_from_one_address_stays_within_its_limit,
    forty_unknown_invite_codes_get_exactly_ten_answers,
]
